package datarobot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

const token = "tok-7d1e9b44-client-secret"

func newFake(t *testing.T) (*fakeapi.Server, *httptest.Server) {
	t.Helper()
	s := fakeapi.New(token, fakeapi.ExampleLicense(time.Now().Add(30*24*time.Hour), 3))
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func newClient(t *testing.T, endpoint string, o ...func(*datarobot.Options)) *datarobot.Client {
	t.Helper()
	opts := datarobot.Options{Endpoint: endpoint, Token: datarobot.StaticToken(token), Timeout: 2 * time.Second, UserAgent: "datarobot_license_exporter/test"}
	for _, f := range o {
		f(&opts)
	}
	c, err := datarobot.NewClient(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEndpointForms(t *testing.T) {
	s, ts := newFake(t)
	for _, ep := range []string{ts.URL, ts.URL + "/", ts.URL + "/api/v2", ts.URL + "/api/v2/"} {
		c := newClient(t, ep)
		if c.Endpoint() != ts.URL+"/api/v2" {
			t.Errorf("%s: Endpoint() = %s", ep, c.Endpoint())
		}
		l, err := c.ClusterLicense(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", ep, err)
		}
		if len(l.LicenseInfo.FeatureFlags) != 3 || *l.LicenseInfo.MaxDeploymentLimit != 100 {
			t.Errorf("%s: license %+v", ep, l.LicenseInfo)
		}
		v, err := c.Version(context.Background())
		if err != nil || v.VersionString != "2.36.0" || v.Major != 2 || v.Minor != 36 {
			t.Errorf("%s: version %+v, %v", ep, v, err)
		}
	}
	if got := s.Calls(fakeapi.LicensePath); got != 4 {
		t.Errorf("license calls at %s = %d, want 4", fakeapi.LicensePath, got)
	}
}

func TestBadEndpoints(t *testing.T) {
	for ep, want := range map[string]string{
		"":                            "empty endpoint",
		"datarobot.example.com":       `must start with http:// or https://`,
		"ftp://datarobot.example.com": `must start with http:// or https://`,
		"https://":                    "has no host",
		"https://h/api/v2?x=1":        "must not have a query",
		"https://user:pw@h/%zz":       "invalid endpoint URL",
	} {
		_, err := datarobot.NewClient(datarobot.Options{Endpoint: ep, Token: datarobot.StaticToken(token)})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", ep, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%q: error shows the password: %v", ep, err)
		}
	}
}

func TestHeadersSent(t *testing.T) {
	var got http.Header
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = w.Write([]byte(`{"major": 2, "minor": 39, "versionString": "2.39.1"}`))
	}))
	defer ts.Close()
	if _, err := newClient(t, ts.URL).Version(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got.Get("Authorization") != "Bearer "+token {
		t.Errorf("Authorization = %q", got.Get("Authorization"))
	}
	if got.Get("User-Agent") != "datarobot_license_exporter/test" {
		t.Errorf("User-Agent = %q", got.Get("User-Agent"))
	}
	if got.Get("Accept") != "application/json" {
		t.Errorf("Accept = %q", got.Get("Accept"))
	}
}

// TestFaultReasons drives the fake into every fault and checks the reason,
// the status and the upstream's own words.
func TestFaultReasons(t *testing.T) {
	cases := []struct {
		fault   fakeapi.Fault
		reason  datarobot.Reason
		status  int
		message string
	}{
		{fakeapi.FaultUnauthorized, datarobot.ReasonUnauthorized, 401, "Invalid API token"},
		{fakeapi.FaultForbidden, datarobot.ReasonForbidden, 403, "CAN_MANAGE_CLUSTER_LICENSE required"},
		{fakeapi.FaultNotFound, datarobot.ReasonNotFound, 404, "Resource not found"},
		{fakeapi.FaultRateLimited, datarobot.ReasonRateLimited, 429, "Rate limit exceeded"},
		{fakeapi.FaultUnavailable, datarobot.ReasonRateLimited, 503, "Service temporarily unavailable"},
		{fakeapi.FaultServerError, datarobot.ReasonServerError, 500, "upstream connect error or disconnect/reset before headers"},
		{fakeapi.FaultBadGateway, datarobot.ReasonServerError, 502, "<title>502 Bad Gateway</title>"},
		{fakeapi.FaultHTML, datarobot.ReasonBadResponse, 200, "answer is not a JSON object: <!DOCTYPE html>"},
		{fakeapi.FaultTruncated, datarobot.ReasonBadResponse, 200, "invalid JSON: unexpected EOF"},
		{fakeapi.FaultHang, datarobot.ReasonTimeout, 200, "deadline exceeded"},
		{fakeapi.FaultEndless, datarobot.ReasonBadResponse, 200, "answer larger than 65536 bytes"},
		{fakeapi.FaultReset, datarobot.ReasonConnection, 0, ""},
	}
	for _, tc := range cases {
		t.Run(string(tc.fault), func(t *testing.T) {
			s, ts := newFake(t)
			s.SetFault("", tc.fault)
			c := newClient(t, ts.URL, func(o *datarobot.Options) {
				o.Timeout = 300 * time.Millisecond
				o.MaxBodyBytes = 64 << 10
			})
			start := time.Now()
			_, err := c.ClusterLicense(context.Background())
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s", took)
			}
			var e *datarobot.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *datarobot.Error", err)
			}
			if e.Reason != tc.reason || e.StatusCode != tc.status || !strings.Contains(e.Message, tc.message) {
				t.Errorf("got reason %s, status %d, message %q; want %s, %d, containing %q",
					e.Reason, e.StatusCode, e.Message, tc.reason, tc.status, tc.message)
			}
			if tc.reason == datarobot.ReasonRateLimited && e.RetryAfter != 30*time.Second {
				t.Errorf("RetryAfter = %s, want 30s", e.RetryAfter)
			}
			if datarobot.ReasonOf(err) != tc.reason {
				t.Errorf("ReasonOf = %s", datarobot.ReasonOf(err))
			}
		})
	}
}

func TestStatusAndBodies(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		reason  datarobot.Reason
		message string
	}{
		{"detail", 403, nil, `{"detail": "Forbidden: admin only"}`, datarobot.ReasonForbidden, "Forbidden: admin only"},
		{"message", 401, nil, `{"message": "Token expired"}`, datarobot.ReasonUnauthorized, "Token expired"},
		{"detail object", 400, nil, `{"detail": {"field": "bad"}}`, datarobot.ReasonBadResponse, `{"field": "bad"}`},
		{"plain text folded", 500, nil, "line one\n\n   line\ttwo\r\n", datarobot.ReasonServerError, "line one line two"},
		{"long text cut", 500, nil, strings.Repeat("x", 5000), datarobot.ReasonServerError, strings.Repeat("x", 200) + "…"},
		{"503 without Retry-After", 503, nil, "down", datarobot.ReasonServerError, "down"},
		{"503 with a date", 503, map[string]string{"Retry-After": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, "busy", datarobot.ReasonRateLimited, "busy"},
		{"429 bad Retry-After", 429, map[string]string{"Retry-After": "soon"}, "", datarobot.ReasonRateLimited, ""},
		{"redirect to nowhere", 302, map[string]string{"Location": "/login"}, "", datarobot.ReasonNotFound, ""},
		{"teapot", 418, nil, "short and stout", datarobot.ReasonBadResponse, "short and stout"},
		{"empty 200", 200, nil, "", datarobot.ReasonBadResponse, "not a JSON object"},
		{"array", 200, nil, `[1,2]`, datarobot.ReasonBadResponse, "not a JSON object"},
		{"two objects", 200, nil, `{} {}`, datarobot.ReasonBadResponse, "data after the object"},
		{"no licenseInfo", 200, nil, `{"uploadInfo": {}}`, datarobot.ReasonBadResponse, "licenseInfo.expirationTimestamp is missing"},
		{"bad expiry", 200, nil, `{"licenseInfo": {"expirationTimestamp": "string", "expired": false}}`, datarobot.ReasonBadResponse, `cannot parse timestamp "string"`},
		{"expiry a number", 200, nil, `{"licenseInfo": {"expirationTimestamp": 1700000000, "expired": false}}`, datarobot.ReasonBadResponse, "timestamp must be a string"},
		{"no expired", 200, nil, `{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z"}}`, datarobot.ReasonBadResponse, "licenseInfo.expired is missing"},
		{"limit a string", 200, nil, `{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z", "expired": false, "maxDeploymentLimit": "10"}}`, datarobot.ReasonBadResponse, "invalid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/login" {
					http.NotFound(w, r)
					return
				}
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer ts.Close()
			_, err := newClient(t, ts.URL).ClusterLicense(context.Background())
			var e *datarobot.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v", err)
			}
			if e.Reason != tc.reason || !strings.Contains(e.Message, tc.message) {
				t.Errorf("got %s %q, want %s containing %q", e.Reason, e.Message, tc.reason, tc.message)
			}
		})
	}
}

func TestVersionMissingFields(t *testing.T) {
	for body, want := range map[string]string{
		`{"major": 2, "minor": 36}`:                         "versionString is missing",
		`{"minor": 36, "versionString": "2.36.0"}`:          "major is missing",
		`{"major": 2, "versionString": "2.36.0"}`:           "minor is missing",
		`{"major": "2", "minor": 36, "versionString": "x"}`: "invalid JSON",
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(body))
		}))
		_, err := newClient(t, ts.URL).Version(context.Background())
		ts.Close()
		if datarobot.ReasonOf(err) != datarobot.ReasonBadResponse || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want bad_response with %q", body, err, want)
		}
	}
}

func TestOptionalFieldsStayUnknown(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"licenseInfo": {"expirationTimestamp": "2027-01-01T00:00:00Z", "expired": false, "uiOnly": [1]},
			"uploadInfo": {"uploadTimestamp": "yesterday", "uploaderUserId": "u1", "uploaderUsername": "ann"}}`))
	}))
	defer ts.Close()
	l, err := newClient(t, ts.URL).ClusterLicense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := l.LicenseInfo
	if i.MaxDeploymentLimit != nil || i.ConcurrentWorkersCount != nil || i.CPUUsageLimit != nil || i.FeatureFlags != nil {
		t.Errorf("absent fields were given values: %+v", i)
	}
	if l.UploadInfo == nil || l.UploadInfo.UploadTimestamp.Valid || l.UploadInfo.UploadTimestamp.Raw != "yesterday" || l.UploadInfo.UploaderUsername != "ann" {
		t.Errorf("upload info %+v", l.UploadInfo)
	}
}

func TestTokenRedactedFromUpstreamText(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"message": "bad token ` + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + `"}`))
	}))
	defer ts.Close()
	_, err := newClient(t, ts.URL).ClusterLicense(context.Background())
	if err == nil || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "bad token <redacted>") {
		t.Errorf("error %v", err)
	}
}

func TestCallerContextBoundsTheCall(t *testing.T) {
	s, ts := newFake(t)
	s.SetDelay(10 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newClient(t, ts.URL).ClusterLicense(ctx)
	if datarobot.ReasonOf(err) != datarobot.ReasonTimeout || time.Since(start) > 3*time.Second {
		t.Errorf("err %v after %s", err, time.Since(start))
	}
}

func TestConnectionRefused(t *testing.T) {
	_, ts := newFake(t)
	url := ts.URL
	ts.Close()
	_, err := newClient(t, url).Version(context.Background())
	if datarobot.ReasonOf(err) != datarobot.ReasonConnection || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err %v", err)
	}
}

// TestHugeBodyRefused serves a 1 GiB answer: the client stops at its size
// limit, soon, and its memory stays bounded.
func TestHugeBodyRefused(t *testing.T) {
	s, ts := newFake(t)
	s.SetFault("", fakeapi.FaultHuge)
	c := newClient(t, ts.URL, func(o *datarobot.Options) { o.Timeout = 30 * time.Second })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := c.ClusterLicense(context.Background())
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if datarobot.ReasonOf(err) != datarobot.ReasonBadResponse || !strings.Contains(err.Error(), "answer larger than 1048576 bytes") {
		t.Errorf("err %v", err)
	}
	if took > 10*time.Second {
		t.Errorf("took %s", took)
	}
	// Everything allocated while reading, not only what is left: the
	// answer was never held whole.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("allocated %d MiB reading a 1 GiB answer", grew>>20)
	}
}

// TestUnchangedAnswerNotDecodedAgain: the same answer gives the same
// result, without decoding; a changed answer is decoded afresh.
func TestUnchangedAnswerNotDecodedAgain(t *testing.T) {
	s, ts := newFake(t)
	c := newClient(t, ts.URL)
	a, err := c.ClusterLicense(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.ClusterLicense(context.Background())
	if err != nil || a != b {
		t.Errorf("same answer: %p and %p, %v", a, b, err)
	}
	s.SetLicense(fakeapi.ExampleLicense(time.Now().Add(99*24*time.Hour), 7))
	d, err := c.ClusterLicense(context.Background())
	if err != nil || d == a || len(d.LicenseInfo.FeatureFlags) != 7 {
		t.Errorf("changed answer: %p (%d flags), %v", d, len(d.LicenseInfo.FeatureFlags), err)
	}
	if s.Calls(fakeapi.LicensePath) != 3 {
		t.Errorf("%d calls, want 3: every call still reaches the API", s.Calls(fakeapi.LicensePath))
	}
}
