package main

import (
	"bytes"
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
		{"no url", nil, nil, 1, "--datarobot.url is required (or set DATAROBOT_ENDPOINT)"},
		{"bad url", nil, []string{"--datarobot.url=datarobot.example.com", "--datarobot.token-file=" + good}, 1,
			`--datarobot.url: endpoint "datarobot.example.com" must start with http:// or https://`},
		{"no token", map[string]string{"DATAROBOT_ENDPOINT": "https://dr.example.com/api/v2"}, nil, 1,
			"--datarobot.token-file is required (or set DATAROBOT_API_TOKEN)"},
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
			t.Setenv("DATAROBOT_ENDPOINT", "")
			t.Setenv("DATAROBOT_API_TOKEN", "")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			code := run(c.args, &stderr)
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
