package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

// TestCheckLicense runs check-license against the fake API for each kind
// of new key, in text and JSON, and checks the exit code, what it says,
// that it never installs the key (no PUT) and never prints it.
func TestCheckLicense(t *testing.T) {
	isolate(t)
	const apiToken = "check-license-api-token"
	t.Setenv("DATAROBOT_API_TOKEN", apiToken)
	now := time.Now().Truncate(time.Second)
	installed := fakeapi.ExampleLicense(now.Add(20*24*time.Hour), 3)
	fake := fakeapi.New(apiToken, installed)
	api := httptest.NewServer(fake)
	defer api.Close()

	renewal := fakeapi.ExampleLicense(now.Add(385*24*time.Hour), 3)
	renewal.Flags = append(renewal.Flags, fakeapi.Flag{Key: "ENABLE_NEW_THING", UILabel: "New thing", Value: true})
	fewer := renewal
	fewer.MaxDeployments = 50
	unlimitedToLimited := renewal
	unlimitedToLimited.MaxActiveUsers = 25
	dropped := fakeapi.ExampleLicense(now.Add(385*24*time.Hour), 3)
	dropped.Flags[0].Value = false // ENABLE_MLOPS
	sooner := fakeapi.ExampleLicense(now.Add(10*24*time.Hour), 3)
	keys := map[string]fakeapi.License{
		"KEY-RENEWAL-1111": renewal, "KEY-FEWER-2222": fewer, "KEY-USERS-3333": unlimitedToLimited,
		"KEY-DROPPED-4444": dropped, "KEY-SOONER-5555": sooner,
	}
	for k, l := range keys {
		fake.AddLicenseKey(k, l)
	}
	dir := t.TempDir()
	keyFile := func(key string) string {
		p := filepath.Join(dir, key)
		if err := os.WriteFile(p, []byte(key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	check := func(key, output string) (int, string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run([]string{"check-license", "--license-file=" + keyFile(key), "--output=" + output, "--datarobot.url=" + api.URL}, &stdout, &stderr)
		for _, out := range []string{stdout.String(), stderr.String()} {
			if strings.Contains(out, key) || strings.Contains(out, apiToken) {
				t.Errorf("%s: the output shows the key or the token:\n%s", key, out)
			}
		}
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := check("KEY-RENEWAL-1111", "text")
	t.Logf("check-license output:\n%s", out)
	if code != 0 || !strings.Contains(out, "+365.0 days") || !strings.Contains(out, "+ ENABLE_NEW_THING (New thing)") ||
		!strings.Contains(out, "1 gained, 0 lost, 3 unchanged") || !strings.Contains(out, "loses nothing") {
		t.Errorf("renewal: exit %d\n%s%s", code, out, errOut)
	}
	for key, want := range map[string]string{
		"KEY-FEWER-2222":   "lowers max_deployments from 100 to 50",
		"KEY-USERS-3333":   "lowers max_active_users from unlimited to 25",
		"KEY-DROPPED-4444": "drops feature ENABLE_MLOPS",
		"KEY-SOONER-5555":  "expires 10.0 days sooner",
	} {
		code, out, errOut := check(key, "text")
		if code != 3 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, want 3 and %q:\n%s%s", key, code, want, out, errOut)
		}
	}
	code, out, errOut = check("KEY-UNKNOWN-6666", "text")
	if code != 1 || out != "" || !strings.Contains(errOut, "invalid or has expired") {
		t.Errorf("invalid key: exit %d, %q %q", code, out, errOut)
	}

	// JSON, for scripts.
	code, out, _ = check("KEY-FEWER-2222", "json")
	var report struct {
		Valid  bool `json:"valid"`
		Expiry struct {
			DaysGained float64 `json:"days_gained"`
		} `json:"expiry"`
		Limits []struct {
			Name      string `json:"name"`
			Installed *int64 `json:"installed"`
			New       *int64 `json:"new"`
			Change    string `json:"change"`
		} `json:"limits"`
		Flags []struct {
			Flag   string `json:"flag"`
			Change string `json:"change"`
		} `json:"feature_flags"`
		Losses   []string `json:"losses"`
		ExitCode int      `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("JSON output does not parse: %v\n%s", err, out)
	}
	if code != 3 || !report.Valid || report.ExitCode != 3 || report.Expiry.DaysGained != 365 || len(report.Losses) != 1 || len(report.Flags) != 4 {
		t.Errorf("JSON report: exit %d %+v", code, report)
	}
	for _, l := range report.Limits {
		if l.Name == "max_deployments" && (*l.Installed != 100 || *l.New != 50 || l.Change != "down") {
			t.Errorf("max_deployments in JSON: %+v", l)
		}
	}
	code, out, _ = check("KEY-UNKNOWN-6666", "json")
	if code != 1 || !strings.Contains(out, `"valid":false`) {
		t.Errorf("invalid key in JSON: exit %d %q", code, out)
	}

	// The key from standard input.
	var stdout, stderr bytes.Buffer
	r, w, _ := os.Pipe()
	_, _ = w.WriteString("KEY-RENEWAL-1111\n")
	w.Close()
	oldStdin := os.Stdin
	os.Stdin = r
	code = run([]string{"check-license", "--license-file=-", "--datarobot.url=" + api.URL}, &stdout, &stderr)
	os.Stdin = oldStdin
	if code != 0 || !strings.Contains(stdout.String(), "loses nothing") {
		t.Errorf("key from stdin: exit %d %s %s", code, stdout.String(), stderr.String())
	}

	// A failing API: exit 1.
	fake.SetFault(fakeapi.LicensePath, fakeapi.FaultServerError)
	code, _, errOut = check("KEY-RENEWAL-1111", "text")
	if code != 1 || !strings.Contains(errOut, "cannot read the installed license") {
		t.Errorf("failing API: exit %d %q", code, errOut)
	}
	if fake.Puts() != 0 {
		t.Errorf("check-license made %d PUT clusterLicense calls: it must never install", fake.Puts())
	}
	// Running with no command still starts the exporter, with its flags.
	var s settings
	cmd, err := newApp(&s).Parse([]string{"--datarobot.url=" + api.URL})
	if err != nil || cmd != "serve" || s.cluster.URL != api.URL {
		t.Errorf("no command: %q %v %q", cmd, err, s.cluster.URL)
	}
}
