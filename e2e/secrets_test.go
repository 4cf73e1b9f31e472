package e2e

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

// TestSecretsNeverShown runs the exporter with a token from the
// environment, one inline in the config file and one in a token file, and
// a basic-auth password, at debug level in both log formats. It drives the
// fake APIs through every fault (the 401 fault echoes the token it got) and
// reads every output: the logs, /metrics, /probe, the landing page, the
// health check, error pages, a failed reload, --config.check and a start
// that fails. No token and no password may appear in any of them.
func TestSecretsNeverShown(t *testing.T) {
	bin := buildExporter(t)
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			secrets := map[string]string{
				"env token":    "env-secret-1f2e3d4c5b6a",
				"inline token": "inline-secret-9a8b7c6d5e4f",
				"file token":   "file-secret-0a1b2c3d4e5f",
				"web password": webPassword,
			}
			fakeEnv := fakeapi.New(secrets["env token"], fakeapi.ExampleLicense(time.Now().Add(48*time.Hour), 3))
			fakeInline := fakeapi.New(secrets["inline token"], fakeapi.ExampleLicense(time.Now().Add(48*time.Hour), 3))
			fakeFile := fakeapi.New(secrets["file token"], fakeapi.ExampleLicense(time.Now().Add(48*time.Hour), 3))
			var urls []string
			for _, f := range []*fakeapi.Server{fakeEnv, fakeInline, fakeFile} {
				f.SetRetryAfter(0) // so that every fault after a 429 is called too
				s := httptest.NewServer(f)
				t.Cleanup(s.Close)
				urls = append(urls, s.URL)
			}
			tokenFile := filepath.Join(dir, "token")
			writeFile(t, tokenFile, secrets["file token"]+"\n")
			cfg := filepath.Join(dir, "config.yml")
			good := fmt.Sprintf("clusters:\n  - name: inline\n    url: %s\n    token: %s\n  - name: file\n    url: %s\n    token_file: %s\n",
				urls[1], secrets["inline token"], urls[2], tokenFile)
			writeFile(t, cfg, good)
			web, pool := webConfig(t, dir)
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			exp := start(t, "exporter", []string{"DATAROBOT_API_TOKEN=" + secrets["env token"]}, bin,
				"--datarobot.url="+urls[0], "--config.file="+cfg, "--web.listen-address="+addr, "--web.config.file="+web,
				"--log.level=debug", "--log.format="+format)

			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			var outputs bytes.Buffer
			fetch := func(method, path string, auth bool) int {
				req, _ := http.NewRequest(method, "https://"+addr+path, nil)
				req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "1")
				if auth {
					req.SetBasicAuth("admin", webPassword)
				}
				resp, err := client.Do(req)
				if err != nil {
					return 0
				}
				defer resp.Body.Close()
				fmt.Fprintf(&outputs, "%s %s %d %v\n", method, path, resp.StatusCode, resp.Header)
				_, _ = io.Copy(&outputs, resp.Body)
				return resp.StatusCode
			}
			waitFor(t, "the exporter", 20*time.Second, func() bool { return fetch("GET", "/-/healthy", true) == 200 })

			paths := []string{"/metrics", "/probe?target=inline", "/probe?target=file", "/", "/probe?target=" + urls[1], "/probe?target=nope"}
			for _, f := range append([]fakeapi.Fault{fakeapi.FaultNone}, fakeapi.Faults...) {
				for _, fk := range []*fakeapi.Server{fakeEnv, fakeInline, fakeFile} {
					fk.SetFault("", f)
				}
				for _, p := range paths {
					fetch("GET", p, true)
				}
			}
			// Wrong tokens: each fake now wants another, and echoes the one it gets.
			for _, fk := range []*fakeapi.Server{fakeEnv, fakeInline, fakeFile} {
				fk.SetFault("", fakeapi.FaultNone)
				fk.SetToken("another-token")
			}
			for _, p := range paths {
				fetch("GET", p, true)
			}
			// Without credentials, with wrong ones, and a reload of a broken config.
			fetch("GET", "/metrics", false)
			fetch("GET", "/", false)
			writeFile(t, cfg, good+"    tokn: "+secrets["inline token"]+"\n")
			fetch("POST", "/-/reload", true)
			fetch("GET", "/metrics", true)

			// --config.check, and a start that fails on a bad config.
			writeFile(t, cfg, good)
			out, _ := exec.Command(bin, "--config.file="+cfg, "--config.check").CombinedOutput()
			outputs.Write(out)
			if !strings.Contains(string(out), "token: <secret>") {
				t.Errorf("--config.check does not print the config:\n%s", out)
			}
			writeFile(t, cfg, strings.Replace(good, "url: "+urls[1], "url: not-a-url", 1)+"  - tokn: "+secrets["inline token"]+"\n")
			out, _ = exec.Command(bin, "--config.file="+cfg, "--log.level=debug").CombinedOutput()
			outputs.Write(out)

			logs := exp.log()
			if !strings.Contains(logs, "DataRobot API call failed") || !strings.Contains(logs, "DataRobot API call succeeded") {
				t.Fatalf("expected warn and debug lines; the log:\n%s", logs)
			}
			for _, r := range []string{"unauthorized", "forbidden", "not_found", "rate_limited", "server_error", "timeout", "connection", "bad_response"} {
				if !strings.Contains(logs, r) {
					t.Errorf("no %s failure in the log: not every reason was exercised", r)
				}
			}
			if !strings.Contains(logs, "<redacted>") {
				t.Errorf("the echoed token was not seen redacted in the log")
			}
			for what, secret := range secrets {
				for where, text := range map[string]string{"the log": logs, "the answers and commands": outputs.String()} {
					if strings.Contains(text, secret) {
						i := strings.Index(text, secret)
						t.Errorf("%s shows the %s: ...%s...", where, what, text[max(0, i-200):min(len(text), i+50)])
					}
				}
			}
			t.Logf("%d bytes of answers and %d bytes of log searched", outputs.Len(), len(logs))
		})
	}
}
