package datarobot

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2020, 12, 21, 23, 59, 59, 0, time.UTC)
	ok := map[string]time.Time{
		"2020-12-21T23:59:59.000000Z":     want, // the reference's form
		"2020-12-21T23:59:59Z":            want,
		"2020-12-21T23:59:59.5Z":          want.Add(500 * time.Millisecond),
		"2020-12-21T23:59:59.123456789Z":  want.Add(123456789),
		"2020-12-21t23:59:59z":            want,
		"2020-12-21 23:59:59Z":            want,
		"2020-12-22T01:59:59+02:00":       want,
		"2020-12-21T18:59:59.000-05:00":   want,
		"2020-12-22T01:59:59+0200":        want,
		"2020-12-21T23:59:59.000000":      want, // Python's isoformat() without a zone: UTC
		"2020-12-21T23:59:59":             want,
		" 2020-12-21T23:59:59.000000Z \n": want,
	}
	for in, w := range ok {
		got, err := ParseTimestamp(in)
		if err != nil || !got.Equal(w) || got.Location() != time.UTC {
			t.Errorf("%q: %v, %v; want %v", in, got, err, w)
		}
	}
	for _, in := range []string{"", "string", "2020-12-21", "2020-13-21T23:59:59Z", "21/12/2020 23:59", "2020-12-21T23:59:59+25:00", "1608595199"} {
		if got, err := ParseTimestamp(in); err == nil {
			t.Errorf("%q: parsed as %v, want an error", in, got)
		}
	}
}

func TestTimestampJSON(t *testing.T) {
	var v struct{ A, B, C Timestamp }
	if err := json.Unmarshal([]byte(`{"A": "2020-12-21T23:59:59.000000Z", "B": "nonsense", "C": null}`), &v); err != nil {
		t.Fatal(err)
	}
	if !v.A.Valid || v.A.Time.Unix() != 1608595199 {
		t.Errorf("A = %+v", v.A)
	}
	if v.B.Valid || v.B.Raw != "nonsense" {
		t.Errorf("B = %+v", v.B)
	}
	if v.C.Valid || v.C.Raw != "" {
		t.Errorf("C = %+v", v.C)
	}
	if err := json.Unmarshal([]byte(`{"A": 5}`), &v); err == nil {
		t.Error("a number was taken as a timestamp")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"30":                            30 * time.Second,
		" 5 ":                           5 * time.Second,
		"0":                             0,
		"-3":                            0,
		"999999":                        24 * time.Hour,
		"Fri, 04 Dec 2026 12:01:00 GMT": time.Minute,
		"Fri, 04 Dec 2026 11:00:00 GMT": 0,
		"later":                         0,
		"":                              0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}
