package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDRConfigPath(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/datarobot/drconfig.yaml"},
		{map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "/xdg"}, "/xdg/datarobot/drconfig.yaml"},
		{map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "/xdg", "DATAROBOT_CONFIG_FILE": "/etc/dr.yaml"}, "/etc/dr.yaml"},
		{map[string]string{}, ""},
	} {
		if got := DRConfigPath(env(c.env)); got != c.want {
			t.Errorf("%v: %q, want %q", c.env, got, c.want)
		}
	}
}

func TestFromDataRobotSettings(t *testing.T) {
	dir := t.TempDir()
	drDir := filepath.Join(dir, "datarobot")
	if err := os.MkdirAll(drDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(drDir, "drconfig.yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	xdg := env(map[string]string{"XDG_CONFIG_HOME": dir})
	write("endpoint: https://dr.example.com/api/v2\ntoken: dr-file-token\nmax_retries: 3\nssl_verify: false\n")

	// Nothing from flags: all from drconfig.yaml, other keys ignored.
	f, path, err := Flags{}.FromDataRobotSettings(xdg)
	if err != nil || path != filepath.Join(drDir, "drconfig.yaml") {
		t.Fatalf("%v, %q", err, path)
	}
	if f.URL != "https://dr.example.com/api/v2" || f.EnvToken != "dr-file-token" || !f.InsecureSkipVerify {
		t.Errorf("flags %+v", f)
	}
	// Flags and the environment come first.
	f, _, _ = Flags{URL: "https://flag.example.com"}.FromDataRobotSettings(xdg)
	if f.URL != "https://flag.example.com" || f.EnvToken != "dr-file-token" {
		t.Errorf("flags %+v", f)
	}
	f, path, _ = Flags{URL: "https://flag.example.com", EnvToken: "env-token"}.FromDataRobotSettings(xdg)
	if f.EnvToken != "env-token" || f.InsecureSkipVerify || path != "" {
		t.Errorf("with URL and token given, drconfig.yaml is not read: %+v, %q", f, path)
	}
	// ssl_verify may name a CA file.
	write("endpoint: https://dr.example.com\ntoken: t\nssl_verify: /etc/ssl/dr-ca.pem\n")
	f, _, _ = Flags{}.FromDataRobotSettings(xdg)
	if f.CAFile != "/etc/ssl/dr-ca.pem" || f.InsecureSkipVerify {
		t.Errorf("flags %+v", f)
	}
	// A missing default file is fine; a missing named one is not.
	f, path, err = Flags{}.FromDataRobotSettings(env(map[string]string{"HOME": t.TempDir()}))
	if err != nil || path != "" || f.URL != "" {
		t.Errorf("no drconfig.yaml: %+v %q %v", f, path, err)
	}
	_, _, err = Flags{}.FromDataRobotSettings(env(map[string]string{"DATAROBOT_CONFIG_FILE": "/nonexistent/dr.yaml"}))
	if err == nil || err.Error() != "DataRobot client config /nonexistent/dr.yaml: no such file or directory" {
		t.Errorf("named file missing: %v", err)
	}
	write("endpoint: [\n")
	if _, _, err = (Flags{}).FromDataRobotSettings(xdg); err == nil || !strings.Contains(err.Error(), "drconfig.yaml: line") {
		t.Errorf("broken drconfig.yaml: %v", err)
	}
}
