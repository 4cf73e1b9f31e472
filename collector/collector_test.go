package collector

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testToken = "tok-3f9c2a7e-golden"

// fixedNow is the clock of every golden file.
var fixedNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// newTestExporter serves s and returns an Exporter reading it with a fixed
// clock, and the fake's URL.
func newTestExporter(t *testing.T, s *fakeapi.Server, logger *slog.Logger) (*Exporter, *httptest.Server) {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c, err := datarobot.NewClient(datarobot.Options{
		Endpoint: ts.URL, Token: datarobot.StaticToken(testToken), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return New(c, logger, WithClock(func() time.Time { return fixedNow })), ts
}

// gather runs one scrape and returns its metrics as a Gatherer, which
// gives the same metrics however often it is read.
func gather(ctx context.Context, e *Exporter) prometheus.Gatherer {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.Collector(ctx))
	mfs, err := reg.Gather()
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, err })
}

// compareGolden checks one scrape against testdata/NAME.prom, with
// GatherAndCompare, and writes the file with -update.
func compareGolden(t *testing.T, ctx context.Context, e *Exporter, name string) {
	t.Helper()
	path := filepath.Join("testdata", name+".prom")
	g := gather(ctx, e)
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		var buf bytes.Buffer
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.GatherAndCompare(g, f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestGoldenLicenses(t *testing.T) {
	withLimits := fakeapi.ExampleLicense(fixedNow.Add(30*24*time.Hour), 3)
	expired := fakeapi.ExampleLicense(fixedNow.Add(-36*time.Hour), 3)
	expired.Expired = true
	noLabel := fakeapi.ExampleLicense(fixedNow.Add(90*24*time.Hour), 0)
	noLabel.Flags = []fakeapi.Flag{
		{Key: "ENABLE_MLOPS", UILabel: "MLOps", Value: true},
		{Key: "ENABLE_UNLABELLED", Value: true},
		{Key: "DISABLE_UNLABELLED", Value: false},
	}

	cases := []struct {
		name string
		body []byte
	}{
		{"reference", readFile(t, "testdata/reference.json")},
		{"thirty_days_three_flags", withLimits.JSON()},
		{"expired", expired.JSON()},
		{"five_hundred_flags", fakeapi.ExampleLicense(fixedNow.Add(400*24*time.Hour), 500).JSON()},
		{"flag_without_ui_label", noLabel.JSON()},
		{"unknown_fields_and_new_limits", readFile(t, "testdata/extra_fields.json")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := fakeapi.New(testToken, fakeapi.License{})
			s.SetLicenseJSON(tc.body)
			e, _ := newTestExporter(t, s, nil)
			compareGolden(t, context.Background(), e, tc.name)
		})
	}
}

// failureCases drives the fake into each failure reason.
var failureCases = []struct {
	reason datarobot.Reason
	fault  fakeapi.Fault
}{
	{datarobot.ReasonUnauthorized, fakeapi.FaultUnauthorized},
	{datarobot.ReasonForbidden, fakeapi.FaultForbidden},
	{datarobot.ReasonNotFound, fakeapi.FaultNotFound},
	{datarobot.ReasonRateLimited, fakeapi.FaultRateLimited},
	{datarobot.ReasonServerError, fakeapi.FaultServerError},
	{datarobot.ReasonTimeout, fakeapi.FaultHang},
	{datarobot.ReasonConnection, fakeapi.FaultReset},
	{datarobot.ReasonBadResponse, fakeapi.FaultHTML},
}

func TestGoldenFailures(t *testing.T) {
	for _, tc := range failureCases {
		t.Run(string(tc.reason), func(t *testing.T) {
			s := fakeapi.New(testToken, fakeapi.ExampleLicense(fixedNow.Add(30*24*time.Hour), 3))
			s.SetFault(fakeapi.LicensePath, tc.fault)
			e, _ := newTestExporter(t, s, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			compareGolden(t, ctx, e, "failure_"+string(tc.reason))
		})
	}
}

// TestConnectionRefused covers a server that is gone: both calls fail and
// no license metric is made up.
func TestConnectionRefused(t *testing.T) {
	e, ts := newTestExporter(t, fakeapi.New(testToken, fakeapi.ExampleLicense(fixedNow, 1)), nil)
	ts.Close()
	reg := gather(context.Background(), e)
	for _, name := range []string{"datarobot_license_expired", "datarobot_version_info", "datarobot_last_success_timestamp_seconds"} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 0 {
			t.Errorf("%s: %d series (err %v), want none", name, n, err)
		}
	}
	if up := gaugeValue(t, reg, "datarobot_up"); up != 0 {
		t.Errorf("datarobot_up = %v, want 0", up)
	}
	if got := errorCount(e, EndpointVersion, datarobot.ReasonConnection); got != 1 {
		t.Errorf("connection errors of version = %v, want 1", got)
	}
}

// errorCount reads one error counter.
func errorCount(e *Exporter, endpoint string, r datarobot.Reason) uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.errors[endpoint][r]
}

// TestRecovery shows up following the API from one scrape to the next, and
// the error counters keeping count.
func TestRecovery(t *testing.T) {
	s := fakeapi.New(testToken, fakeapi.ExampleLicense(fixedNow.Add(time.Hour), 1))
	e, _ := newTestExporter(t, s, nil)
	upIs := func(want float64) {
		t.Helper()
		if got := gaugeValue(t, gather(context.Background(), e), "datarobot_up"); got != want {
			t.Fatalf("datarobot_up = %v, want %v", got, want)
		}
	}
	upIs(1)
	s.SetFault("", fakeapi.FaultServerError)
	upIs(0)
	upIs(0)
	s.SetFault("", fakeapi.FaultNone)
	upIs(1)
	if got := errorCount(e, EndpointClusterLicense, datarobot.ReasonServerError); got != 2 {
		t.Errorf("server_error count = %v, want 2", got)
	}
}

// gaugeValue returns the value of the first series of a gauge.
func gaugeValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s", name)
	return 0
}

// TestGoldenFilesPassPromtool runs promtool check metrics over every golden
// file: only datarobot_license_days_until_expiry may be flagged, for its
// unit, which users asked for.
func TestGoldenFilesPassPromtool(t *testing.T) {
	promtool := testtools.Require(t, "promtool")
	files, err := filepath.Glob("testdata/*.prom")
	if err != nil || len(files) < 14 {
		t.Fatalf("golden files: %v (err %v), want at least 14", files, err)
	}
	for _, f := range files {
		body := readFile(t, f)
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, _ := cmd.CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line == "" {
				continue
			}
			if !strings.HasPrefix(line, "datarobot_license_days_until_expiry ") {
				t.Errorf("%s: promtool flags: %s", f, line)
			}
		}
		if bytes.Contains(body, []byte("datarobot_license_days_until_expiry ")) &&
			!strings.Contains(string(out), `datarobot_license_days_until_expiry use base unit "seconds"`) {
			t.Errorf("%s: promtool did not flag days_until_expiry; is it checking? output: %q", f, out)
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClockedExporter(t *testing.T, s *fakeapi.Server, opts ...Option) (*Exporter, *clock) {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c, err := datarobot.NewClient(datarobot.Options{Endpoint: ts.URL, Token: datarobot.StaticToken(testToken), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: fixedNow}
	return New(c, slog.New(slog.DiscardHandler), append([]Option{WithClock(clk.Now)}, opts...)...), clk
}

func TestMinInterval(t *testing.T) {
	s := fakeapi.New(testToken, fakeapi.ExampleLicense(fixedNow.Add(time.Hour), 1))
	e, clk := newClockedExporter(t, s, WithMinInterval(time.Minute))
	scrapeAt := func(wantCalls int, wantUp float64) {
		t.Helper()
		if up := gaugeValue(t, gather(context.Background(), e), "datarobot_up"); up != wantUp {
			t.Errorf("up = %v, want %v", up, wantUp)
		}
		if got := s.Calls(fakeapi.LicensePath); got != wantCalls {
			t.Errorf("%d calls, want %d", got, wantCalls)
		}
	}
	scrapeAt(1, 1)
	clk.Add(30 * time.Second)
	s.SetFault("", fakeapi.FaultServerError) // unseen: the answer is reused
	scrapeAt(1, 1)
	clk.Add(31 * time.Second)
	scrapeAt(2, 0)
	clk.Add(59 * time.Second)
	s.SetFault("", fakeapi.FaultNone) // unseen: the failure is reused too
	scrapeAt(2, 0)
	clk.Add(2 * time.Second)
	scrapeAt(3, 1)
}

func TestRetryAfterHonoured(t *testing.T) {
	s := fakeapi.New(testToken, fakeapi.ExampleLicense(fixedNow.Add(time.Hour), 1))
	s.SetFault(fakeapi.LicensePath, fakeapi.FaultRateLimited) // Retry-After: 30
	e, clk := newClockedExporter(t, s)
	gaugeValue(t, gather(context.Background(), e), "datarobot_up")
	s.SetFault("", fakeapi.FaultNone)
	for range 3 {
		clk.Add(9 * time.Second)
		if up := gaugeValue(t, gather(context.Background(), e), "datarobot_up"); up != 0 {
			t.Errorf("up = %v within Retry-After, want 0", up)
		}
	}
	if got := s.Calls(fakeapi.LicensePath); got != 1 {
		t.Errorf("%d calls within Retry-After, want 1", got)
	}
	if got := errorCount(e, EndpointClusterLicense, datarobot.ReasonRateLimited); got != 4 {
		t.Errorf("rate_limited = %d, want 4 (1 call, 3 skipped)", got)
	}
	if got := s.Calls(fakeapi.VersionPath); got != 4 {
		t.Errorf("version was called %d times, want 4: its calls are not limited", got)
	}
	clk.Add(4 * time.Second) // 31 s after the 429
	if up := gaugeValue(t, gather(context.Background(), e), "datarobot_up"); up != 1 {
		t.Errorf("up = %v after Retry-After, want 1", up)
	}
}

// panickingAPI stands for a bug in the client: it panics with the token.
type panickingAPI struct{}

func (panickingAPI) ClusterLicense(context.Context) (*datarobot.ClusterLicense, error) {
	panic("bug with " + testToken)
}
func (panickingAPI) Version(context.Context) (*datarobot.Version, error) {
	return &datarobot.Version{Major: 2, Minor: 36, VersionString: "2.36.0"}, nil
}

func (panickingAPI) Deployments(context.Context) (int64, error) { return 0, nil }

// TestPanicBecomesError shows a panic while reading the API answered as a
// failed call, logged without the panic's value.
func TestPanicBecomesError(t *testing.T) {
	var logs bytes.Buffer
	e := New(panickingAPI{}, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if up := gaugeValue(t, gather(context.Background(), e), "datarobot_up"); up != 0 {
		t.Errorf("up = %v, want 0", up)
	}
	if got := errorCount(e, EndpointClusterLicense, datarobot.ReasonBadResponse); got != 1 {
		t.Errorf("bad_response = %d, want 1", got)
	}
	if !strings.Contains(logs.String(), "Bug: reading the DataRobot API panicked") || strings.Contains(logs.String(), testToken) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestDeploymentsCollector(t *testing.T) {
	s := fakeapi.New(testToken, fakeapi.ExampleLicense(fixedNow.Add(time.Hour), 1))
	s.SetDeployments(142, false) // counted page by page
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c, err := datarobot.NewClient(datarobot.Options{Endpoint: ts.URL, Token: datarobot.StaticToken(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	e := New(c, slog.New(slog.DiscardHandler), WithDeployments(), WithClock(func() time.Time { return fixedNow }))
	want := `
# HELP datarobot_deployments Deployments the exporter's token can see (GET deployments); with an admin token, all of them.
# TYPE datarobot_deployments gauge
datarobot_deployments 142
`
	g := gather(context.Background(), e)
	if err := testutil.GatherAndCompare(g, strings.NewReader(want), "datarobot_deployments"); err != nil {
		t.Error(err)
	}
	if n, _ := testutil.GatherAndCount(g, "datarobot_scrape_errors_total"); n != 24 {
		t.Errorf("%d error counters, want 24 (3 endpoints x 8 reasons)", n)
	}
	if up := gaugeValue(t, g, "datarobot_up"); up != 1 {
		t.Errorf("up = %v", up)
	}
	s.SetFault(fakeapi.DeploymentsPath, fakeapi.FaultForbidden)
	g = gather(context.Background(), e)
	if up := gaugeValue(t, g, "datarobot_up"); up != 0 {
		t.Errorf("deployments forbidden: up = %v, want 0", up)
	}
	if n, _ := testutil.GatherAndCount(g, "datarobot_deployments"); n != 0 {
		t.Error("datarobot_deployments made up on failure")
	}
	if got := errorCount(e, EndpointDeployments, datarobot.ReasonForbidden); got != 1 {
		t.Errorf("forbidden errors of deployments = %d", got)
	}
	// Without the option, no deployments call and no deployments series.
	plain := New(c, slog.New(slog.DiscardHandler))
	before := s.Calls(fakeapi.DeploymentsPath)
	if n, _ := testutil.GatherAndCount(gather(context.Background(), plain), "datarobot_scrape_errors_total"); n != 16 || s.Calls(fakeapi.DeploymentsPath) != before {
		t.Errorf("collector off: %d error counters, %d calls", n, s.Calls(fakeapi.DeploymentsPath)-before)
	}
}
