package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// TestInvalidConfigs loads each file in testdata/bad and checks its exact
// error: it names the file, and where it can the cluster and the key.
func TestInvalidConfigs(t *testing.T) {
	abs, err := filepath.Abs("testdata/bad")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"bad_bool":              `cluster "a": line 5: "maybe" is a string, want true or false`,
		"bad_label":             `cluster "a": labels: "2env" is not a valid label name`,
		"bad_name":              `cluster "prod cluster": name: "prod cluster" may hold only letters, digits, '_', '.' and '-', and must start with a letter or digit`,
		"bad_proxy":             `cluster "a": proxy_url: "proxy:3128" must be an absolute http, https or socks5 URL`,
		"bad_timeout":           `cluster "a": timeout: "soon" is not a duration such as 30s or 1m`,
		"both_tokens":           `cluster "a": token: give token_file or token, not both`,
		"cert_without_key":      `cluster "a": cert_file: cert_file and key_file go together`,
		"duplicate_name":        `cluster "a": name: used by another cluster too`,
		"empty":                 `the file is empty`,
		"ftp_url":               `cluster "a": url: endpoint "ftp://datarobot.example.com" must start with http:// or https://`,
		"missing_ca_file":       `cluster "a": ca_file: stat ` + abs + `/nope.pem: no such file or directory`,
		"missing_name":          `cluster #1: name: is required`,
		"missing_token_file":    `cluster "a": token_file: stat ` + abs + `/nope.token: no such file or directory`,
		"missing_url":           `cluster "a": url: is required`,
		"negative_min_interval": `cluster "a": min_interval: "-1m" is not a duration such as 30s or 1m`,
		"no_clusters":           `clusters: at least one cluster is required`,
		"no_token":              `cluster "a": token_file: is required (or token)`,
		"not_a_list":            `line 2: found a mapping, want a list of clusters`,
		"relative_url":          `cluster "a": url: endpoint "datarobot.example.com/api/v2" must start with http:// or https://`,
		"reserved_label":        `cluster "a": labels: "instance" is a label of the exporter's own metrics or of Prometheus's targets`,
		"syntax":                `line 2: did not find expected '-' indicator`,
		"unknown_key":           `cluster "a": line 5: unknown key "tokenfile"`,
		"unknown_top_key":       `line 5: unknown key "global"`,
	}
	files, _ := filepath.Glob("testdata/bad/*.yml")
	if len(files) != len(want) {
		t.Errorf("%d fixtures, %d expected errors: every fixture needs one", len(files), len(want))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yml")
		_, err := Load(f)
		if err == nil {
			t.Errorf("%s: loaded, want an error", name)
			continue
		}
		if got, w := err.Error(), f+": "+want[name]; got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is more than one line", name)
		}
	}
}

func TestGoodConfig(t *testing.T) {
	c, err := Load("testdata/good.yml")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("testdata/token")
	a, b := c.Cluster("a"), c.Cluster("b")
	if a == nil || b == nil || c.Cluster("c") != nil || len(c.Clusters) != 2 {
		t.Fatalf("clusters %+v", c.Clusters)
	}
	if a.TokenFile != abs || a.Timeout != 0 || a.MinInterval != 0 {
		t.Errorf("a = %+v: want the token file made absolute, no timeout set, no min interval", a)
	}
	if b.Token != "inline-secret-9f8e" || b.Timeout != model.Duration(3*time.Second) || b.MinInterval != model.Duration(time.Minute) ||
		!b.InsecureSkipVerify || b.ServerName != "b.internal" || b.ProxyURL != "http://proxy:3128" || b.Labels["environment"] != "prod" {
		t.Errorf("b = %+v", b)
	}
	if _, err := a.NewClient("test", slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("client of a: %v", err)
	}
	if _, err := b.NewClient("test", slog.New(slog.DiscardHandler)); err != nil {
		t.Errorf("client of b: %v", err)
	}
	printed := c.String()
	if strings.Contains(printed, "inline-secret-9f8e") || !strings.Contains(printed, "token: <secret>") {
		t.Errorf("printed config shows the token or lacks <secret>:\n%s", printed)
	}
	// What is printed reads back as the same config, but for the token.
	c2, err := Parse([]byte(printed), "/")
	if err != nil {
		t.Fatalf("printed config does not parse: %v\n%s", err, printed)
	}
	if c2.Cluster("b").Token != "<secret>" || c2.Cluster("b").ServerName != "b.internal" {
		t.Errorf("reparsed b = %+v", c2.Cluster("b"))
	}
}

func TestExampleConfigParses(t *testing.T) {
	b, err := os.ReadFile("../examples/config.yml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(b, "/etc/datarobot_license_exporter")
	if err != nil {
		t.Fatalf("examples/config.yml: %v", err)
	}
	if len(c.Clusters) != 2 || c.Cluster("staging").Labels["region"] != "eu-west-1" {
		t.Errorf("example parsed as %+v", c.Clusters)
	}
}
