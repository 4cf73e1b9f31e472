package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/alerts"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/collector"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/server"
)

// The metric names, flags and reasons are a public contract: these tests
// hold the README to what the code does.

// readmeRows returns the cells of each row of the README table whose
// header starts with header, with backticks removed.
func readmeRows(t *testing.T, header string) [][]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, header):
			in = true
		case in && !strings.HasPrefix(line, "|"):
			in = false
		case in && !strings.HasPrefix(line, "|---"):
			var cells []string
			for _, c := range strings.Split(strings.Trim(line, "|"), " | ") {
				cells = append(cells, strings.Trim(strings.TrimSpace(c), "`"))
			}
			rows = append(rows, cells)
		}
	}
	if len(rows) == 0 {
		t.Fatalf("README has no table headed %q", header)
	}
	return rows
}

// readmeTable returns the first cells of a README table, sorted.
func readmeTable(t *testing.T, header string) []string {
	t.Helper()
	var out []string
	for _, r := range readmeRows(t, header) {
		out = append(out, r[0])
	}
	sort.Strings(out)
	return out
}

// emittedNames scrapes an exporter with a config file, on a fake license
// that has every field, the newer limits too, and returns the names of the
// datarobot_ metrics.
func emittedNames(t *testing.T) []string {
	t.Helper()
	lic := fakeapi.ExampleLicense(time.Now().Add(24*time.Hour), 3)
	one := int64(1)
	lic.GenAISeats, lic.AgenticSeats, lic.CPUUsageLimit = &one, &one, &one
	fake := fakeapi.New("t0ken-contract", lic)
	fake.SetDeployments(3, true)
	api := httptest.NewServer(fake)
	defer api.Close()
	client, err := datarobot.NewClient(datarobot.Options{Endpoint: api.URL, Token: datarobot.StaticToken("t0ken-contract")})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(name))
	cfg := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(cfg, []byte("clusters:\n  - name: a\n    url: "+api.URL+"\n    token: t0ken-contract\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	targets := &server.Targets{}
	if err := server.NewReloader(cfg, targets, "test", server.Collectors{}, logger, reg).Reload(); err != nil {
		t.Fatal(err)
	}
	h, err := server.New(server.Options{Logger: logger, Default: &server.Target{Name: "default", Exporter: collector.New(client, logger, collector.WithDeployments())},
		Targets: targets, Gatherer: reg, TelemetryPath: "/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (datarobot_\w+) `).FindAllStringSubmatch(string(body), -1) {
		names = append(names, m[1])
	}
	sort.Strings(names)
	return names
}

func TestReadmeMetricsTableMatchesExporter(t *testing.T) {
	documented := readmeTable(t, "| Metric |")
	emitted := emittedNames(t)
	if !slices.Equal(documented, emitted) {
		t.Errorf("README metrics table and /metrics differ:\nREADME:  %v\nemitted: %v", documented, emitted)
	}
}

func TestReadmeFlagsTableMatchesFlags(t *testing.T) {
	var documented []string
	for _, f := range readmeTable(t, "| Flag |") {
		documented = append(documented, strings.TrimPrefix(f, "--"))
	}
	var s settings
	var flags []string
	for _, f := range newApp(&s).Model().Flags {
		if !f.Hidden && f.Name != "help" {
			flags = append(flags, f.Name)
		}
	}
	sort.Strings(flags)
	if !slices.Equal(documented, flags) {
		t.Errorf("README flags table and the flags differ:\nREADME: %v\nflags:  %v", documented, flags)
	}

	documented, flags = nil, nil
	for _, f := range readmeTable(t, "| check-license flag |") {
		documented = append(documented, strings.TrimPrefix(f, "--"))
	}
	for _, f := range newApp(&s).GetCommand("check-license").Model().Flags {
		flags = append(flags, f.Name)
	}
	sort.Strings(flags)
	if !slices.Equal(documented, flags) {
		t.Errorf("README check-license flags and the command's differ:\nREADME: %v\nflags:  %v", documented, flags)
	}
}

func TestReadmeReasonsTableMatchesCode(t *testing.T) {
	var reasons []string
	for _, r := range datarobot.Reasons {
		reasons = append(reasons, string(r))
	}
	sort.Strings(reasons)
	if documented := readmeTable(t, "| Reason |"); !slices.Equal(documented, reasons) {
		t.Errorf("README reasons %v, code %v", documented, reasons)
	}
}

// metricRef finds the exporter's metric names in text, and metricAlts the
// names a regular expression names as a prefix and alternatives, such as
// datarobot_license_(max_deployments|max_active_users). The binary's own
// name is not a metric.
var (
	metricRef  = regexp.MustCompile(`\bdatarobot_[a-z0-9_]*[a-z0-9]\b`)
	metricAlts = regexp.MustCompile(`\b(datarobot_[a-z0-9_]*)\(([a-z0-9_|]+)\)`)
)

func referencedNames(text string) []string {
	var out []string
	for _, m := range metricAlts.FindAllStringSubmatch(text, -1) {
		for _, alt := range strings.Split(m[2], "|") {
			out = append(out, m[1]+alt)
		}
	}
	for _, m := range metricRef.FindAllString(text, -1) {
		if m != name {
			out = append(out, m)
		}
	}
	return out
}

// TestNamedMetricsExist fails when a dashboard, an alert rule or the README
// names a metric the exporter does not emit.
func TestNamedMetricsExist(t *testing.T) {
	emitted := map[string]bool{}
	for _, n := range emittedNames(t) {
		emitted[n] = true
	}
	sources := map[string]string{}
	for _, pattern := range []string{"README.md", "dashboards/*.json", "alerts/*.yml", "alerts/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no files (err %v)", pattern, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sources[f] = string(b)
		}
	}
	for file, text := range sources {
		refs := referencedNames(text)
		if len(refs) == 0 {
			t.Errorf("%s names no metric: is the pattern right?", file)
		}
		for _, n := range refs {
			if !emitted[n] {
				t.Errorf("%s names %s, which the exporter does not emit", file, n)
			}
		}
	}
}

// TestReadmeAlertsTableMatchesRules holds the README's alerts table to the
// rule file: the same alerts, with the same severities.
func TestReadmeAlertsTableMatchesRules(t *testing.T) {
	var documented []string
	for _, r := range readmeRows(t, "| Alert |") {
		documented = append(documented, r[0]+"/"+r[1])
	}
	f, err := alerts.Parse(alerts.Rules)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				rules = append(rules, r.Alert+"/"+r.Labels["severity"])
			}
		}
	}
	sort.Strings(documented)
	sort.Strings(rules)
	if !slices.Equal(documented, rules) {
		t.Errorf("README alerts table and the rule file differ:\nREADME: %v\nrules:  %v", documented, rules)
	}
}
