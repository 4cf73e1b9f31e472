// Package e2e runs the exporter with a real Prometheus and a real
// Alertmanager (Debian's packages) against the fake DataRobot API, and
// checks that the shipped alerts reach Alertmanager's webhook and that every
// dashboard query returns data.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/alerts"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/dashboards"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/internal/testtools"
)

const token = "e2e-token-4b1d9f7c"

// start runs a program until the test ends; it is stopped at cleanup,
// whether the test passed or not, and its log shown if it failed.
func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	out := &testtools.Buffer{}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	done := p.done
	go func() { p.err = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop", name)
		}
		if t.Failed() {
			log := out.String()
			if len(log) > 4000 {
				log = log[len(log)-4000:]
			}
			t.Logf("--- %s's log (tail) ---\n%s", name, log)
		}
	})
	return p
}

// proc is a started program and its output.
type proc struct {
	cmd  *exec.Cmd
	out  *testtools.Buffer
	done chan struct{} // closed when it has exited; err is then set
	err  error
}

// log returns what the program has written so far.
func (p *proc) log() string { return p.out.String() }

// buildExporter builds the exporter's binary into a temporary folder.
func buildExporter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "datarobot_license_exporter")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a loopback port free right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func get(url string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return b, resp.StatusCode, err
}

// webhook is Alertmanager's receiver, owned by the test.
type webhook struct {
	mu     sync.Mutex
	alerts []whAlert
}

type whAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var msg struct {
		Alerts []whAlert `json:"alerts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&msg); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.alerts = append(w.alerts, msg.Alerts...)
	w.mu.Unlock()
}

func (w *webhook) find(labels map[string]string) *whAlert {
	w.mu.Lock()
	defer w.mu.Unlock()
next:
	for i := range w.alerts {
		for k, v := range labels {
			if w.alerts[i].Labels[k] != v {
				continue next
			}
		}
		a := w.alerts[i]
		return &a
	}
	return nil
}

// promQuery runs an instant query and returns the number of results.
func promQuery(t *testing.T, base, q string) (int, error) {
	t.Helper()
	body, code, err := get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("HTTP %d: %s", code, body)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("%s", r.Error)
	}
	if r.Data.ResultType != "vector" && r.Data.ResultType != "matrix" {
		return 1, nil // a scalar or a string
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r.Data.Result, &items); err != nil {
		return 0, err
	}
	return len(items), nil
}

func TestEndToEnd(t *testing.T) {
	promBin := testtools.Require(t, "prometheus")
	amBin := testtools.Require(t, "prometheus-alertmanager", "alertmanager")
	dir := t.TempDir()

	// The fake DataRobot API: a license 5 days from expiry, with every field.
	expiry := time.Now().Add(5 * 24 * time.Hour).Truncate(time.Second)
	lic := fakeapi.ExampleLicense(expiry, 5)
	genai, agentic, cpu := int64(0), int64(-1), int64(128)
	lic.GenAISeats, lic.AgenticSeats, lic.CPUUsageLimit = &genai, &agentic, &cpu
	fake := fakeapi.New(token, lic)
	fake.SetDeployments(7, true)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)

	// The exporter, built and run as a user would.
	exporterBin := buildExporter(t)
	exporterAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// The same fake is also the cluster "eu" of a config file, for /probe.
	tokenFile := filepath.Join(dir, "eu.token")
	writeFile(t, tokenFile, token)
	configFile := filepath.Join(dir, "config.yml")
	writeFile(t, configFile, fmt.Sprintf("clusters:\n  - name: eu\n    url: %s\n    token_file: %s\n", api.URL, tokenFile))
	start(t, "exporter", []string{"DATAROBOT_API_TOKEN=" + token},
		exporterBin, "--datarobot.url="+api.URL+"/api/v2", "--config.file="+configFile, "--web.listen-address="+exporterAddr,
		"--collector.deployments")
	waitFor(t, "the exporter", 20*time.Second, func() bool {
		_, code, err := get("http://" + exporterAddr + "/-/healthy")
		return err == nil && code == 200
	})

	// Alertmanager, delivering to the test's webhook.
	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	amAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	amConfig := filepath.Join(dir, "alertmanager.yml")
	writeFile(t, amConfig, fmt.Sprintf(`route:
  receiver: test
  group_by: [alertname, instance, severity]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s/alerts
`, hookSrv.URL))
	start(t, "alertmanager", nil, amBin, "--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitFor(t, "Alertmanager", 30*time.Second, func() bool {
		_, code, err := get("http://" + amAddr + "/-/ready")
		return err == nil && code == 200
	})

	// Prometheus, scraping the exporter every second with the shipped rules.
	rules, err := filepath.Abs(filepath.Join("..", "alerts", alerts.RulesFile))
	if err != nil {
		t.Fatal(err)
	}
	promAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	promConfig := filepath.Join(dir, "prometheus.yml")
	writeFile(t, promConfig, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
%s  - job_name: datarobot_license
    static_configs:
      - targets: [%q]
`, rules, amAddr, readmeProbeJob(t, exporterAddr, "eu"), exporterAddr))
	start(t, "prometheus", nil, promBin, "--config.file="+promConfig, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+promAddr)
	prom := "http://" + promAddr
	waitFor(t, "Prometheus", 30*time.Second, func() bool {
		_, code, err := get(prom + "/-/ready")
		return err == nil && code == 200
	})

	// 1. Alertmanager delivers the 7-day critical alert to the webhook.
	want := map[string]string{"alertname": "DataRobotLicenseExpiringSoon", "severity": "critical", "job": "datarobot_license"}
	waitFor(t, "the critical expiry alert at the webhook", 90*time.Second, func() bool { return hook.find(want) != nil })
	a := hook.find(want)
	t.Logf("webhook received: %+v", *a)
	if a.Status != "firing" || a.Labels["job"] != "datarobot_license" || a.Labels["instance"] != exporterAddr {
		t.Errorf("alert labels %v, status %s", a.Labels, a.Status)
	}
	if s := a.Annotations["summary"]; s != "DataRobot license of "+exporterAddr+" expires in 5 days" {
		t.Errorf("summary %q", s)
	}
	wantDesc := fmt.Sprintf("The DataRobot cluster license of %s (job datarobot_license) expires in 5.0 days, on %s. When it expires,",
		exporterAddr, expiry.UTC().Format("2006-01-02 15:04 MST"))
	if d := a.Annotations["description"]; !strings.HasPrefix(d, wantDesc) {
		t.Errorf("description %q\nwant it to start %q", d, wantDesc)
	}
	for _, other := range []map[string]string{
		{"alertname": "DataRobotLicenseExpiringSoon", "severity": "warning"},
		{"alertname": "DataRobotLicenseExpiringSoon", "severity": "info"},
		{"alertname": "DataRobotLicenseExpired"},
	} {
		if hook.find(other) != nil {
			t.Errorf("webhook received %v, which must not fire with 5 days left", other)
		}
	}

	// The README's /probe job names the cluster in instance, and its alert
	// does too.
	wantProbe := map[string]string{"alertname": "DataRobotLicenseExpiringSoon", "severity": "critical", "instance": "eu", "job": "datarobot-clusters"}
	waitFor(t, "the critical expiry alert of the /probe job", 30*time.Second, func() bool { return hook.find(wantProbe) != nil })
	if s := hook.find(wantProbe).Annotations["summary"]; s != "DataRobot license of eu expires in 5 days" {
		t.Errorf("/probe job's summary %q", s)
	}

	// 2. Every dashboard query parses and returns data.
	ds, err := dashboards.All()
	if err != nil {
		t.Fatal(err)
	}
	queries := dashboards.Queries(ds)
	for _, q := range queries {
		n, err := promQuery(t, prom, dashboards.Expand(q.Expr))
		if err != nil || n == 0 {
			t.Errorf("%s: %s: %d results, error %v", q.Where, q.Expr, n, err)
		}
	}
	t.Logf("%d dashboard queries returned data", len(queries))

	// 3. Every rule expression: recording rules and the alert that fires
	// return data; every other alert returns nothing.
	f, err := alerts.Parse(alerts.Rules)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name := r.Record
			wantData := true
			if r.Alert != "" {
				name = r.Alert + "/" + r.Labels["severity"]
				wantData = name == "DataRobotLicenseExpiringSoon/critical"
			}
			n, err := promQuery(t, prom, r.Expr)
			switch {
			case err != nil:
				t.Errorf("%s: %v", name, err)
			case wantData && n == 0:
				t.Errorf("%s returns nothing, want data", name)
			case !wantData && n != 0:
				t.Errorf("%s returns %d series, want none: it would fire", name, n)
			}
			checked++
		}
	}
	t.Logf("%d rule expressions evaluated", checked)

	// 4. Prometheus evaluated every rule without error.
	body, _, err := get(prom + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	var rr struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name      string `json:"name"`
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &rr); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rr.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("rule %s: health %s, %s", r.Name, r.Health, r.LastError)
			}
		}
	}
	if n != checked {
		t.Errorf("Prometheus loaded %d rules, the file has %d", n, checked)
	}
	if fake.TotalCalls() == 0 {
		t.Error("the fake API saw no call")
	}
}

// readmeProbeJob returns the README's scrape config for /probe, pointed at
// exporter and target, and scraping every second.
func readmeProbeJob(t *testing.T, exporter, target string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "scrape_configs:\n  - job_name: datarobot-clusters")
	if i < 0 {
		t.Fatal("README has no /probe scrape config")
	}
	block := text[i : i+strings.Index(text[i:], "```")]
	for _, r := range [][2]string{
		{"datarobot-license-exporter.example.com:9918", exporter},
		{"[prod, staging]", "[" + target + "]"},
		{"scrape_interval: 60s", "scrape_interval: 1s"},
		{"scrape_timeout: 15s", "scrape_timeout: 900ms"},
	} {
		if !strings.Contains(block, r[0]) {
			t.Fatalf("README's /probe scrape config lacks %q", r[0])
		}
		block = strings.Replace(block, r[0], r[1], 1)
	}
	return block
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
