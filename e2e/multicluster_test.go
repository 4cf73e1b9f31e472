package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

// cluster is one fake DataRobot with its own token.
type cluster struct {
	name, token, tokenFile string
	fake                   *fakeapi.Server
	srv                    *httptest.Server
}

func newCluster(t *testing.T, dir, name string, daysLeft int) *cluster {
	t.Helper()
	c := &cluster{name: name, token: "tok-" + name + "-" + fmt.Sprint(time.Now().UnixNano())}
	c.fake = fakeapi.New(c.token, fakeapi.ExampleLicense(time.Now().Add(time.Duration(daysLeft)*24*time.Hour), 3))
	c.srv = httptest.NewServer(c.fake)
	t.Cleanup(c.srv.Close)
	c.tokenFile = filepath.Join(dir, name+".token")
	writeFile(t, c.tokenFile, c.token+"\n")
	return c
}

func (c *cluster) entry() string {
	return fmt.Sprintf("  - name: %s\n    url: %s/api/v2\n    token_file: %s\n    labels:\n      environment: %s-env\n", c.name, c.srv.URL, c.tokenFile, c.name)
}

// probe scrapes /probe?target= and returns the status and the body.
func probe(t *testing.T, exporter, target string) (int, string) {
	t.Helper()
	body, code, err := get("http://" + exporter + "/probe?target=" + url.QueryEscape(target))
	if err != nil {
		t.Fatalf("probe %s: %v", target, err)
	}
	return code, string(body)
}

var metricValue = func(body, series string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestMultiCluster runs the built exporter with a config file of three
// clusters, each a fake DataRobot with its own token, and reloads it.
func TestMultiCluster(t *testing.T) {
	dir := t.TempDir()
	bin := buildExporter(t)
	clusters := []*cluster{newCluster(t, dir, "prod", 90), newCluster(t, dir, "staging", 20), newCluster(t, dir, "eu", 3)}
	cfgPath := filepath.Join(dir, "config.yml")
	writeConfig := func(cs ...*cluster) {
		t.Helper()
		var b strings.Builder
		b.WriteString("clusters:\n")
		for _, c := range cs {
			b.WriteString(c.entry())
		}
		writeFile(t, cfgPath, b.String())
	}
	writeConfig(clusters...)

	// A server standing for any URL someone might pass as a target.
	var stray atomic.Int64
	bystander := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stray.Add(1)
	}))
	t.Cleanup(bystander.Close)

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	exp := start(t, "exporter", []string{"DATAROBOT_ENDPOINT=", "DATAROBOT_API_TOKEN="},
		bin, "--config.file="+cfgPath, "--web.listen-address="+addr)
	waitFor(t, "the exporter", 20*time.Second, func() bool {
		_, code, err := get("http://" + addr + "/-/healthy")
		return err == nil && code == 200
	})

	// Each cluster on /probe with its own token, all at once.
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Go(func() {
			code, body := probe(t, addr, c.name)
			if code != 200 || metricValue(body, "datarobot_up{environment=\""+c.name+"-env\"}") != "1" {
				t.Errorf("probe %s: %d\n%s", c.name, code, body)
			}
		})
	}
	wg.Wait()
	for _, c := range clusters {
		if seen := c.fake.TokensSeen(); len(seen) != 1 || seen[0] != c.token {
			t.Errorf("%s's server saw tokens %v, want only its own", c.name, seen)
		}
	}

	// /metrics serves the exporter's own metrics, and no cluster's.
	body, _, _ := get("http://" + addr + "/metrics")
	if strings.Contains(string(body), "datarobot_up") || metricValue(string(body), "datarobot_license_exporter_config_last_reload_successful") != "1" {
		t.Errorf("/metrics with only a config file:\n%s", body)
	}

	// A URL or an unknown name as target: 400, and no request leaves.
	before := make([]int, len(clusters))
	for i, c := range clusters {
		before[i] = c.fake.TotalCalls()
	}
	for _, target := range []string{bystander.URL + "/", bystander.URL + "/api/v2", clusters[0].srv.URL, "127.0.0.1:" + strings.Split(bystander.URL, ":")[2], "nosuchcluster", ""} {
		code, body := probe(t, addr, target)
		if code != 400 || strings.Count(strings.TrimSpace(body), "\n") != 0 {
			t.Errorf("target %q: %d %q, want 400 and one line", target, code, body)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if n := stray.Load(); n != 0 {
		t.Errorf("the server named as a target received %d requests", n)
	}
	for i, c := range clusters {
		if c.fake.TotalCalls() != before[i] {
			t.Errorf("%s received calls for a bad target", c.name)
		}
	}

	// A rotated token file is used on the next scrape.
	clusters[0].fake.SetToken("rotated-token")
	writeFile(t, clusters[0].tokenFile, "rotated-token\n")
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(clusters[0].tokenFile, later, later); err != nil {
		t.Fatal(err)
	}
	if code, body := probe(t, addr, "prod"); code != 200 || metricValue(body, `datarobot_up{environment="prod-env"}`) != "1" {
		t.Errorf("after rotating prod's token: %d\n%s", code, body)
	}

	// SIGHUP after adding a cluster serves it, with no restart.
	fourth := newCluster(t, dir, "us", 45)
	writeConfig(append(clusters, fourth)...)
	pid := exp.cmd.Process.Pid
	if err := exp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new cluster after SIGHUP", 10*time.Second, func() bool {
		code, _ := probe(t, addr, "us")
		return code == 200
	})
	if exp.cmd.Process.Pid != pid {
		t.Error("the exporter restarted")
	}

	// A broken edit leaves the old config serving, says why, and sets
	// last_reload_successful to 0.
	writeFile(t, cfgPath, "clusters:\n  - name: prod\n    url: not a url\n")
	if err := exp.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed reload", 10*time.Second, func() bool {
		body, _, _ := get("http://" + addr + "/metrics")
		return metricValue(string(body), "datarobot_license_exporter_config_last_reload_successful") == "0"
	})
	if !strings.Contains(exp.log(), `Config file not loaded; the previous config keeps serving`) ||
		!strings.Contains(exp.log(), `cluster \"prod\": url:`) {
		t.Errorf("the log does not say why the reload failed:\n%s", exp.log())
	}
	for _, name := range []string{"prod", "staging", "eu", "us"} {
		if code, _ := probe(t, addr, name); code != 200 {
			t.Errorf("after a broken reload, %s: %d, want the old config serving", name, code)
		}
	}

	// POST /-/reload takes the same path; a removed cluster is gone.
	writeConfig(clusters[0], fourth)
	resp, err := http.Post("http://"+addr+"/-/reload", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("POST /-/reload: %d", resp.StatusCode)
	}
	if code, _ := probe(t, addr, "staging"); code != 400 {
		t.Errorf("removed cluster staging: %d, want 400", code)
	}
	if code, _ := probe(t, addr, "us"); code != 200 {
		t.Errorf("kept cluster us: %d", code)
	}
	if _, code, _ := get("http://" + addr + "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}
	for _, c := range append(clusters, fourth) {
		if strings.Contains(exp.log(), c.token) {
			t.Errorf("the log shows %s's token", c.name)
		}
	}
}
