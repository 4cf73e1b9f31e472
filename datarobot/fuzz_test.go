package datarobot

import (
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Seed corpora: the reference's examples, what the fake serves, and the odd
// cases the tests and the fuzzer found. go test runs the seeds as tests;
// make test also fuzzes each target for a while.

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2020-12-21T23:59:59.000000Z", "2020-12-21T23:59:59Z", "2020-12-21t23:59:59z", "2020-12-21 23:59:59Z",
		"2020-12-22T01:59:59+02:00", "2020-12-22T01:59:59+0200", "2020-12-21T23:59:59.000000", "string", "",
		"2020-12-21T23:59:59.1234567891Z", "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "2020-02-30T00:00:00Z",
		"2020-12-21T24:00:00Z", "2020-12-21T23:59:60Z", "\x00", "2020-12-21T23:59:59+99:99",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTimestamp(s)
		if err != nil {
			if tm != (time.Time{}) {
				t.Errorf("%q: an error and a time %v", s, tm)
			}
			return
		}
		if tm.Location() != time.UTC {
			t.Errorf("%q: not UTC: %v", s, tm)
		}
		// What parses once parses again, to the same instant.
		again, err := ParseTimestamp(tm.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(tm) {
			t.Errorf("%q: %v does not round-trip: %v, %v", s, tm, again, err)
		}
	})
}

func licenseSeeds(f *testing.F) {
	for _, p := range []string{"../collector/testdata/reference.json", "../collector/testdata/extra_fields.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	for _, s := range []string{
		`{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z", "expired": false}}`,
		`{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z", "expired": false, "featureFlags": {"A": {"value": true}, "": {"uiLabel": "\u0000\ud800", "value": false}}}}`,
		`{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z", "expired": null, "maxDeploymentLimit": 1e400}}`,
		`{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z", "expired": true, "maxDeploymentLimit": -9223372036854775808}}`,
		`{"licenseInfo": {"expirationTimestamp": 5}}`, `{"licenseInfo": []}`, `{"licenseInfo": null, "uploadInfo": null}`,
		`<!DOCTYPE html><html></html>`, `[]`, `{}`, `{} {}`, ``, `null`, `{"a":`,
		`{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z", "expired": false}, "uploadInfo": {"uploadTimestamp": "x", "uploaderUsername": "\xff"}}`,
	} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeClusterLicense(f *testing.F) {
	licenseSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := DecodeClusterLicense(body)
		if err != nil {
			if l != nil {
				t.Error("a license and an error")
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error is more than one line: %q", err)
			}
			return
		}
		// What the collector relies on.
		if !l.LicenseInfo.ExpirationTimestamp.Valid || l.LicenseInfo.Expired == nil {
			t.Errorf("accepted a license without a valid expiry or expired flag: %+v", l.LicenseInfo)
		}
		for k, fl := range l.LicenseInfo.FeatureFlags {
			if !utf8.ValidString(k) || !utf8.ValidString(fl.UILabel) {
				t.Errorf("invalid UTF-8 in flag %q / %q: label values must be valid", k, fl.UILabel)
			}
		}
		if u := l.UploadInfo; u != nil && (!utf8.ValidString(u.UploaderUsername) || !utf8.ValidString(u.UploaderUserID)) {
			t.Errorf("invalid UTF-8 in upload info %+v", u)
		}
	})
}

func FuzzDecodeVersion(f *testing.F) {
	for _, s := range []string{
		`{"major": 2, "minor": 36, "versionString": "2.36.0"}`, `{"major": 2, "minor": 36}`,
		`{"major": 2.5, "minor": 36, "versionString": "x"}`, `{"major": "2"}`, `{"versionString": "\ud800"}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v, err := DecodeVersion(body)
		if err == nil && !utf8.ValidString(v.VersionString) {
			t.Errorf("invalid UTF-8 in version %q", v.VersionString)
		}
		if err != nil && v != nil {
			t.Error("a version and an error")
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("error is more than one line: %q", err)
		}
	})
}

func FuzzUpstreamMessage(f *testing.F) {
	for _, s := range []string{
		`{"message": "Invalid API token"}`, `{"detail": "Forbidden"}`, `{"detail": {"a": [1]}}`, `{"error": 5}`,
		"<html><title>502 Bad Gateway</title></html>", "line\none\r\n\ttwo", strings.Repeat("é", 300), "\xff\xfe", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m := upstreamMessage(body)
		if !utf8.ValidString(m) {
			t.Errorf("invalid UTF-8: %q", m)
		}
		if len(m) > maxMessageLen+len("…") {
			t.Errorf("%d bytes, more than %d", len(m), maxMessageLen)
		}
		if strings.ContainsFunc(m, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("control characters: %q", m)
		}
	})
}
