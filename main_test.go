package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartupErrors shows each missing or bad setting stopping the exporter
// at start, with one line that names the flag.
func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "token")
	if err := os.WriteFile(good, []byte("secret-token-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCA := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(badCA, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no url", nil, nil, 1, "--datarobot.url is required (or DATAROBOT_ENDPOINT, endpoint in drconfig.yaml, or --config.file)"},
		{"bad url", nil, []string{"--datarobot.url=datarobot.example.com", "--datarobot.token-file=" + good}, 1,
			`--datarobot.url: endpoint "datarobot.example.com" must start with http:// or https://`},
		{"no token", map[string]string{"DATAROBOT_ENDPOINT": "https://dr.example.com/api/v2"}, nil, 1,
			"--datarobot.token-file is required (or DATAROBOT_API_TOKEN, or token in drconfig.yaml)"},
		{"missing token file", nil, []string{"--datarobot.url=https://dr.example.com", "--datarobot.token-file=" + dir + "/nope"}, 1,
			"--datarobot.token-file " + dir + "/nope: stat " + dir + "/nope: no such file or directory"},
		{"empty token file", nil, []string{"--datarobot.url=https://dr.example.com", "--datarobot.token-file=" + empty}, 1,
			"--datarobot.token-file " + empty + ": token file " + empty + " is empty"},
		{"bad ca file", map[string]string{"DATAROBOT_API_TOKEN": "secret-token-value"}, []string{"--datarobot.url=https://dr.example.com", "--datarobot.ca-file=" + badCA}, 1,
			"--datarobot.ca-file " + badCA + ": unable to use specified CA cert file " + badCA},
		{"zero timeout", nil, []string{"--datarobot.url=https://dr.example.com", "--datarobot.token-file=" + good, "--datarobot.timeout=0s"}, 1,
			"--datarobot.timeout must be positive, got 0s"},
		{"unknown flag", nil, []string{"--datarobot.uri=https://dr.example.com"}, 2, "unknown long flag '--datarobot.uri'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			isolate(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			code := run(c.args, io.Discard, &stderr)
			out := strings.TrimSpace(stderr.String())
			if code != c.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.code, out)
			}
			if strings.Count(out, "\n") != 0 || !strings.Contains(out, c.want) {
				t.Errorf("stderr %q, want one line containing %q", out, c.want)
			}
			if strings.Contains(out, "secret-token-value") {
				t.Errorf("stderr shows the token: %q", out)
			}
		})
	}
}

// isolate keeps a test from DataRobot settings of the machine it runs on.
func isolate(t *testing.T) {
	t.Helper()
	for _, v := range []string{"DATAROBOT_ENDPOINT", "DATAROBOT_API_TOKEN", "DATAROBOT_CONFIG_FILE", "XDG_CONFIG_HOME"} {
		t.Setenv(v, "")
	}
	t.Setenv("HOME", t.TempDir())
}

func TestConfigCheck(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	good := dir + "/good.yml"
	if err := os.WriteFile(good, []byte("clusters:\n  - name: prod\n    url: https://dr.example.com\n    token: very-secret-inline-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--config.file=" + good, "--config.check"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !strings.HasPrefix(out, good+": 1 clusters, OK\n") || !strings.Contains(out, "token: <secret>") || strings.Contains(out, "very-secret-inline-token") {
		t.Errorf("stdout:\n%s", out)
	}

	bad := dir + "/bad.yml"
	if err := os.WriteFile(bad, []byte("clusters:\n  - name: prod\n    url: https://dr.example.com\n    token: very-secret-inline-token\n    tokn: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"--config.file=" + bad, "--config.check"}, &stdout, &stderr)
	want := name + ": error: " + bad + `: cluster "prod": line 5: unknown key "tokn"` + "\n"
	if code != 1 || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("exit %d, stderr %q, stdout %q; want 1 and %q", code, stderr.String(), stdout.String(), want)
	}
	if strings.Contains(stderr.String(), "very-secret-inline-token") {
		t.Error("the error shows the token")
	}

	stderr.Reset()
	if code := run([]string{"--config.check"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "--config.check needs --config.file") {
		t.Errorf("without a file: exit %d, %q", code, stderr.String())
	}
}

// TestDRConfigFallback shows the exporter reading DataRobot's own client
// settings when no flag names a cluster: here the endpoint comes from
// drconfig.yaml and the missing token is reported.
func TestDRConfigFallback(t *testing.T) {
	isolate(t)
	dr := t.TempDir() + "/drconfig.yaml"
	if err := os.WriteFile(dr, []byte("endpoint: not-a-url\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATAROBOT_CONFIG_FILE", dr)
	var stderr bytes.Buffer
	code := run(nil, io.Discard, &stderr)
	want := `--datarobot.url: endpoint "not-a-url" must start with http:// or https://`
	if code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q, want %q", code, stderr.String(), want)
	}
}

func TestOwnRegistry(t *testing.T) {
	for _, leaveOut := range []bool{false, true} {
		mfs, err := ownRegistry(leaveOut).Gather()
		if err != nil {
			t.Fatal(err)
		}
		prefixes := map[string]int{}
		for _, mf := range mfs {
			prefix, _, _ := strings.Cut(mf.GetName(), "_")
			prefixes[prefix]++
		}
		if prefixes["datarobot"] != 1 { // datarobot_license_exporter_build_info
			t.Errorf("leave out %v: want the build info, got %v", leaveOut, prefixes)
		}
		for _, p := range []string{"go", "process"} {
			if present := prefixes[p] > 0; present == leaveOut {
				t.Errorf("leave out %v: %s_* metrics present: %v, want %v", leaveOut, p, present, !leaveOut)
			}
		}
	}
}
