package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/collector"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/internal/testtools"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/server"
)

const token = "tok-a81f-server-secret-5c2d"

type env struct {
	fake     *fakeapi.Server
	api      *httptest.Server
	exporter *httptest.Server
	logs     *testtools.Buffer
}

// start serves a fake API and an exporter reading it, with logger at
// debug level writing to env.logs in the given format.
func start(t *testing.T, lic fakeapi.License, format string) *env {
	t.Helper()
	e := &env{fake: fakeapi.New(token, lic), logs: &testtools.Buffer{}}
	e.api = httptest.NewServer(e.fake)
	t.Cleanup(e.api.Close)
	client, err := datarobot.NewClient(datarobot.Options{
		Endpoint: e.api.URL + "/api/v2", Token: datarobot.StaticToken(token), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	var h slog.Handler
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	if format == "json" {
		h = slog.NewJSONHandler(e.logs, opts)
	} else {
		h = slog.NewTextHandler(e.logs, opts)
	}
	logger := slog.New(h)
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector("datarobot_license_exporter"))
	handler, err := server.New(server.Options{
		Logger:        logger,
		Default:       &server.Target{Name: "default", Exporter: collector.New(client, logger)},
		Gatherer:      reg,
		TelemetryPath: "/metrics",
		TimeoutOffset: 500 * time.Millisecond,
		MaxRequests:   100,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.exporter = httptest.NewServer(handler)
	t.Cleanup(e.exporter.Close)
	return e
}

// scrape GETs /metrics and parses it.
func scrape(t *testing.T, url string, timeoutHeader string) (int, map[string][]*sample, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if timeoutHeader != "" {
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", timeoutHeader)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, parse(t, body), string(body)
}

type sample struct {
	labels map[string]string
	value  float64
}

func parse(t *testing.T, body []byte) map[string][]*sample {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	out := map[string][]*sample{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			s := &sample{labels: map[string]string{}}
			for _, lp := range m.GetLabel() {
				s.labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.Gauge != nil:
				s.value = m.GetGauge().GetValue()
			case m.Counter != nil:
				s.value = m.GetCounter().GetValue()
			}
			out[name] = append(out[name], s)
		}
	}
	return out
}

// value returns the one sample of name whose labels include want.
func value(t *testing.T, m map[string][]*sample, name string, want map[string]string) float64 {
	t.Helper()
	var found []*sample
next:
	for _, s := range m[name] {
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		found = append(found, s)
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, want, len(found))
	}
	return found[0].value
}

// TestEveryRow runs the exporter on a license 30 days from expiry with 3
// feature flags and the newer limits, and checks every row of the metric
// contract.
func TestEveryRow(t *testing.T) {
	exp := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	lic := fakeapi.ExampleLicense(exp, 3)
	genai, agentic, cpu := int64(0), int64(-1), int64(256)
	lic.GenAISeats, lic.AgenticSeats, lic.CPUUsageLimit = &genai, &agentic, &cpu
	e := start(t, lic, "text")
	before := time.Now()
	code, m, _ := scrape(t, e.exporter.URL, "10")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	none := map[string]string{}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"datarobot_up", none, 1},
		{"datarobot_scrape_success", map[string]string{"endpoint": "cluster_license"}, 1},
		{"datarobot_scrape_success", map[string]string{"endpoint": "version"}, 1},
		{"datarobot_scrape_errors_total", map[string]string{"endpoint": "version", "reason": "timeout"}, 0},
		{"datarobot_license_expiry_timestamp_seconds", none, float64(exp.Unix())},
		{"datarobot_license_expired", none, 0},
		{"datarobot_license_concurrent_workers", none, 40},
		{"datarobot_license_max_active_users", none, 0},
		{"datarobot_license_max_deployments", none, 100},
		{"datarobot_license_prepaid_deployments", none, 50},
		{"datarobot_license_genai_seats", none, 0},
		{"datarobot_license_agentic_governance_seats", none, -1},
		{"datarobot_license_cpu_usage_limit", none, 256},
		{"datarobot_license_feature_flag", map[string]string{"flag": "ENABLE_MLOPS", "ui_label": "MLOps"}, 1},
		{"datarobot_license_feature_flag", map[string]string{"flag": "ENABLE_TIME_SERIES", "ui_label": "Time Series"}, 1},
		{"datarobot_license_feature_flag", map[string]string{"flag": "ENABLE_GENAI", "ui_label": "Generative AI"}, 0},
		{"datarobot_license_upload_timestamp_seconds", none, float64(lic.UploadTime.Unix())},
		{"datarobot_license_upload_info", map[string]string{"uploader_username": "admin@example.com", "uploader_user_id": "5e8f1a2b3c4d5e6f7a8b9c0d"}, 1},
		{"datarobot_version_info", map[string]string{"version": "2.36.0", "major": "2", "minor": "36"}, 1},
		{"datarobot_license_exporter_build_info", none, 1},
	} {
		if got := value(t, m, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := len(m["datarobot_scrape_errors_total"]); n != 16 {
		t.Errorf("%d error counters, want 16 (2 endpoints × 8 reasons)", n)
	}
	if n := len(m["datarobot_license_feature_flag"]); n != 3 {
		t.Errorf("%d feature flags, want 3", n)
	}
	days := value(t, m, "datarobot_license_days_until_expiry", none)
	if days > 30 || days < 29.99 {
		t.Errorf("days until expiry = %v, want just under 30", days)
	}
	for _, ep := range []string{"cluster_license", "version"} {
		d := value(t, m, "datarobot_scrape_duration_seconds", map[string]string{"endpoint": ep})
		if d <= 0 || d > 5 {
			t.Errorf("duration of %s = %v", ep, d)
		}
		ls := value(t, m, "datarobot_last_success_timestamp_seconds", map[string]string{"endpoint": ep})
		if ls < float64(before.Unix())-1 || ls > float64(time.Now().Unix())+1 {
			t.Errorf("last success of %s = %v", ep, ls)
		}
	}
}

// TestFailuresAnswer200 shows every failure answered with HTTP 200, up 0
// and the right reason counted, and the exporter staying up.
func TestFailuresAnswer200(t *testing.T) {
	cases := []struct {
		fault  fakeapi.Fault
		reason string
	}{
		{fakeapi.FaultUnauthorized, "unauthorized"},
		{fakeapi.FaultForbidden, "forbidden"},
		{fakeapi.FaultNotFound, "not_found"},
		{fakeapi.FaultServerError, "server_error"},
		{fakeapi.FaultHTML, "bad_response"},
		{fakeapi.FaultTruncated, "bad_response"},
		{fakeapi.FaultHang, "timeout"},
		{fakeapi.FaultReset, "connection"},
		{fakeapi.FaultBadGateway, "server_error"},
		{fakeapi.FaultEndless, "bad_response"},
		{fakeapi.FaultHuge, "bad_response"},
	}
	e := start(t, fakeapi.ExampleLicense(time.Now().Add(time.Hour), 3), "text")
	counts := map[string]float64{}
	for _, c := range cases {
		e.fake.SetFault("", c.fault)
		start := time.Now()
		// Prometheus's timeout of 1.5 s less the 0.5 s offset bounds the hang.
		code, m, body := scrape(t, e.exporter.URL, "1.5")
		took := time.Since(start)
		if code != 200 {
			t.Errorf("%s: status %d", c.fault, code)
			continue
		}
		if took > 1500*time.Millisecond {
			t.Errorf("%s: scrape took %s, beyond Prometheus's timeout", c.fault, took)
		}
		if got := value(t, m, "datarobot_up", map[string]string{}); got != 0 {
			t.Errorf("%s: up = %v", c.fault, got)
		}
		counts[c.reason]++
		for _, ep := range []string{"cluster_license", "version"} {
			got := value(t, m, "datarobot_scrape_errors_total", map[string]string{"endpoint": ep, "reason": c.reason})
			if got != counts[c.reason] {
				t.Errorf("%s: errors_total{%s,%s} = %v, want %v", c.fault, ep, c.reason, got, counts[c.reason])
			}
		}
		if strings.Contains(body, "\ndatarobot_license_expired ") {
			t.Errorf("%s: license metrics made up on failure", c.fault)
		}
	}
	e.fake.SetFault("", fakeapi.FaultNone)
	if _, m, _ := scrape(t, e.exporter.URL, "10"); value(t, m, "datarobot_up", map[string]string{}) != 1 {
		t.Error("up did not return to 1 on the first scrape after recovery")
	}

	// 429 with Retry-After: 30. The exporter makes no call for 30 s, and
	// reports rate_limited meanwhile.
	e.fake.SetFault("", fakeapi.FaultRateLimited)
	for i := 1; i <= 3; i++ {
		code, m, _ := scrape(t, e.exporter.URL, "10")
		if code != 200 || value(t, m, "datarobot_up", map[string]string{}) != 0 {
			t.Errorf("rate limited, scrape %d: status %d, up not 0", i, code)
		}
		if got := value(t, m, "datarobot_scrape_errors_total", map[string]string{"endpoint": "cluster_license", "reason": "rate_limited"}); got != float64(i) {
			t.Errorf("rate limited, scrape %d: rate_limited = %v, want %d", i, got, i)
		}
	}
	e.fake.SetFault("", fakeapi.FaultNone)
	if got := e.fake.Calls(fakeapi.LicensePath); got != len(cases)+2 {
		t.Errorf("%d calls to the license endpoint, want %d: Retry-After was not honoured", got, len(cases)+2)
	}
}

// TestConcurrentScrapesShareOneCall holds the fake's answers while 50
// scrapes arrive, then counts the calls that reached it.
func TestConcurrentScrapesShareOneCall(t *testing.T) {
	e := start(t, fakeapi.ExampleLicense(time.Now().Add(time.Hour), 3), "text")
	release := e.fake.Hold()
	defer release()
	const n = 50
	var wg sync.WaitGroup
	ups := make([]float64, n)
	for i := range n {
		wg.Go(func() {
			_, m, _ := scrape(t, e.exporter.URL, "10")
			ups[i] = value(t, m, "datarobot_up", map[string]string{})
		})
	}
	waitFor(t, func() bool {
		return e.fake.InFlight(fakeapi.LicensePath) == 1 && e.fake.InFlight(fakeapi.VersionPath) == 1
	})
	time.Sleep(500 * time.Millisecond) // let every scrape join the calls in flight
	release()
	wg.Wait()
	for _, p := range []string{fakeapi.LicensePath, fakeapi.VersionPath} {
		if got := e.fake.Calls(p); got != 1 {
			t.Errorf("%d concurrent scrapes made %d calls to %s, want 1", n, got, p)
		}
	}
	for i, up := range ups {
		if up != 1 {
			t.Errorf("scrape %d: up = %v", i, up)
		}
	}
	// The next scrape calls again: sharing is only for calls in flight.
	scrape(t, e.exporter.URL, "10")
	if got := e.fake.Calls(fakeapi.LicensePath); got != 2 {
		t.Errorf("after one more scrape: %d calls, want 2", got)
	}
}

// TestBothCallsConcurrent shows the two API calls of a scrape made at the
// same time: both are in flight at once while the fake holds its answers.
func TestBothCallsConcurrent(t *testing.T) {
	e := start(t, fakeapi.ExampleLicense(time.Now().Add(time.Hour), 3), "text")
	release := e.fake.Hold()
	defer release()
	done := make(chan struct{})
	go func() {
		defer close(done)
		scrape(t, e.exporter.URL, "10")
	}()
	waitFor(t, func() bool {
		return e.fake.InFlight(fakeapi.LicensePath) == 1 && e.fake.InFlight(fakeapi.VersionPath) == 1
	})
	release()
	<-done
}

func TestScrapeTimeoutHeader(t *testing.T) {
	e := start(t, fakeapi.ExampleLicense(time.Now().Add(time.Hour), 3), "text")
	e.fake.SetDelay(3 * time.Second)
	for _, c := range []struct {
		header   string
		min, max time.Duration
	}{
		{"1", 400 * time.Millisecond, 900 * time.Millisecond},      // 1 s less the 0.5 s offset
		{"0.3", 250 * time.Millisecond, 800 * time.Millisecond},    // smaller than the offset: used whole
		{"2.5", 1900 * time.Millisecond, 2700 * time.Millisecond},  // 2 s
		{"junk", 2900 * time.Millisecond, 4500 * time.Millisecond}, // ignored: the 5 s client timeout, so the 3 s answer arrives
	} {
		start := time.Now()
		code, m, _ := scrape(t, e.exporter.URL, c.header)
		took := time.Since(start)
		if code != 200 || took < c.min || took > c.max {
			t.Errorf("header %q: status %d after %s, want 200 within [%s, %s]", c.header, code, took, c.min, c.max)
		}
		want := 0.0
		if c.header == "junk" {
			want = 1
		}
		if got := value(t, m, "datarobot_up", map[string]string{}); got != want {
			t.Errorf("header %q: up = %v, want %v", c.header, got, want)
		}
	}
}

func TestMaxRequests(t *testing.T) {
	fake := fakeapi.New(token, fakeapi.ExampleLicense(time.Now().Add(time.Hour), 1))
	api := httptest.NewServer(fake)
	defer api.Close()
	client, _ := datarobot.NewClient(datarobot.Options{Endpoint: api.URL, Token: datarobot.StaticToken(token)})
	logger := slog.New(slog.DiscardHandler)
	h, err := server.New(server.Options{Logger: logger, Default: &server.Target{Name: "default", Exporter: collector.New(client, logger)},
		Gatherer: prometheus.NewRegistry(), TelemetryPath: "/metrics", MaxRequests: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	release := fake.Hold()
	defer release()
	go func() { _, _ = http.Get(srv.URL + "/metrics") }()
	waitFor(t, func() bool { return fake.InFlight(fakeapi.LicensePath) == 1 })
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), "--web.max-requests=1") {
		t.Errorf("second scrape: %d %s", resp.StatusCode, body)
	}
}

func TestLandingAndHealth(t *testing.T) {
	e := start(t, fakeapi.ExampleLicense(time.Now().Add(time.Hour), 1), "text")
	for path, want := range map[string]string{"/": `href="/metrics"`, "/-/healthy": "Healthy"} {
		resp, err := http.Get(e.exporter.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, body lacks %q", path, resp.StatusCode, want)
		}
		if strings.Contains(string(body), token) {
			t.Errorf("%s shows the token", path)
		}
	}
	if e.fake.TotalCalls() != 0 {
		t.Errorf("the landing page called the API %d times", e.fake.TotalCalls())
	}
}

// TestTokenNeverShown runs every failure with debug logs in both formats,
// and looks for the token in the logs and the metrics. The fake's 401
// message echoes the token it got, as some servers do.
func TestTokenNeverShown(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		e := start(t, fakeapi.ExampleLicense(time.Now().Add(time.Hour), 3), format)
		e.fake.SetRetryAfter(0) // so that the faults after a 429 are called too
		var bodies strings.Builder
		_, _, body := scrape(t, e.exporter.URL, "1.5")
		bodies.WriteString(body)
		for _, f := range fakeapi.Faults {
			e.fake.SetFault("", f)
			_, _, body := scrape(t, e.exporter.URL, "1.5")
			bodies.WriteString(body)
		}
		// A wrong token makes the fake echo the one it got.
		e.fake.SetFault("", fakeapi.FaultNone)
		wrong := fakeapi.New("another-token", fakeapi.ExampleLicense(time.Now(), 1))
		wrongSrv := httptest.NewServer(wrong)
		client, _ := datarobot.NewClient(datarobot.Options{Endpoint: wrongSrv.URL, Token: datarobot.StaticToken(token)})
		_, err := client.ClusterLicense(context.Background())
		wrongSrv.Close()
		if err == nil || !strings.Contains(err.Error(), "<redacted>") {
			t.Errorf("echoed token: error %v, want it redacted", err)
		}
		if strings.Contains(fmt.Sprint(err), token) {
			t.Errorf("error shows the token: %v", err)
		}

		logs := e.logs.String()
		if !strings.Contains(logs, "DataRobot API call failed") || !strings.Contains(logs, "DataRobot API call succeeded") {
			t.Fatalf("%s: expected debug and warn lines in the logs:\n%s", format, logs)
		}
		for _, r := range datarobot.Reasons {
			if !strings.Contains(logs, string(r)) {
				t.Errorf("%s: no %s failure in the logs: not every reason was exercised", format, r)
			}
		}
		for what, text := range map[string]string{"logs": logs, "metrics": bodies.String()} {
			if strings.Contains(text, token) || strings.Contains(text, token[4:20]) {
				t.Errorf("%s %s show the token", format, what)
			}
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
