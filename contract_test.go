package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/collector"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/server"
)

// The metric names, flags and reasons are a public contract: these tests
// hold the README to what the code does.

// readmeTable returns the first backticked word of each row of the README
// table whose header starts with header.
func readmeTable(t *testing.T, header string) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	first := regexp.MustCompile("^\\| `([^`]+)`")
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, header):
			in = true
		case in && !strings.HasPrefix(line, "|"):
			in = false
		case in:
			if m := first.FindStringSubmatch(line); m != nil {
				out = append(out, m[1])
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("README has no table headed %q", header)
	}
	sort.Strings(out)
	return out
}

// emittedNames scrapes an exporter on a fake license that has every field,
// the newer limits too, and returns the names of the datarobot_ metrics.
func emittedNames(t *testing.T) []string {
	t.Helper()
	lic := fakeapi.ExampleLicense(time.Now().Add(24*time.Hour), 3)
	one := int64(1)
	lic.GenAISeats, lic.AgenticSeats, lic.CPUUsageLimit = &one, &one, &one
	api := httptest.NewServer(fakeapi.New("t0ken-contract", lic))
	defer api.Close()
	client, err := datarobot.NewClient(datarobot.Options{Endpoint: api.URL, Token: datarobot.StaticToken("t0ken-contract")})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(name))
	h, err := server.New(server.Options{Logger: logger, Exporter: collector.New(client, logger), Gatherer: reg, TelemetryPath: "/metrics"})
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
