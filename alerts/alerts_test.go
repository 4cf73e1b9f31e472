package alerts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/internal/testtools"
)

func TestRulesPassPromtoolCheck(t *testing.T) {
	promtool := testtools.Require(t, "promtool")
	out, err := exec.Command(promtool, "check", "rules", RulesFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS: 22 rules found") {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// TestRuleUnitTests runs the promtool unit tests of every alert.
func TestRuleUnitTests(t *testing.T) {
	promtool := testtools.Require(t, "promtool")
	files, _ := filepath.Glob("tests/*.test.yml")
	if len(files) == 0 {
		t.Fatal("no rule tests")
	}
	out, err := exec.Command(promtool, append([]string{"test", "rules"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "SUCCESS"); n != len(files) {
		t.Fatalf("promtool test rules: %d of %d files passed\n%s", n, len(files), out)
	}
}

// ruleTests is the part of a promtool test file read here.
type ruleTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsTested checks that for each alert rule (name and
// severity) a promtool test expects it to fire, with its summary and
// description asserted, and that for each alert name a test expects quiet.
func TestEveryAlertIsTested(t *testing.T) {
	f, err := Parse(Rules)
	if err != nil {
		t.Fatal(err)
	}
	fires := map[string]bool{}
	quiet := map[string]bool{}
	files, _ := filepath.Glob("tests/*.test.yml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var rt ruleTests
		if err := yaml.Unmarshal(b, &rt); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, tc := range rt.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) == 0 {
					quiet[a.Alertname] = true
				}
				for _, e := range a.ExpAlerts {
					if e.ExpAnnotations["summary"] == "" || e.ExpAnnotations["description"] == "" {
						t.Errorf("%s: a test of %s does not assert the summary and description", file, a.Alertname)
					}
					fires[a.Alertname+"/"+e.ExpLabels["severity"]] = true
				}
			}
		}
	}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			if key := r.Alert + "/" + r.Labels["severity"]; !fires[key] {
				t.Errorf("no test expects %s to fire", key)
			}
			if !quiet[r.Alert] {
				t.Errorf("no test expects %s to stay quiet", r.Alert)
			}
		}
	}
}

func TestAlertConventions(t *testing.T) {
	f, err := Parse(Rules)
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				if !strings.HasPrefix(r.Record, "datarobot:") {
					t.Errorf("recording rule %q should be named datarobot:...", r.Record)
				}
				continue
			}
			alerts++
			switch r.Labels["severity"] {
			case "critical", "warning", "info":
			default:
				t.Errorf("%s: severity %q", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", r.Alert)
			}
			if !strings.Contains(r.Annotations["description"], "$labels.instance") {
				t.Errorf("%s: the description does not name the cluster", r.Alert)
			}
		}
	}
	if alerts < 12 {
		t.Errorf("%d alerts, want at least 12", alerts)
	}
}

// TestPrometheusRuleIsGenerated holds prometheusrule.yaml to what the
// generator makes of the rule file, byte for byte, and checks that its groups
// are the rule file's.
func TestPrometheusRuleIsGenerated(t *testing.T) {
	want, err := PrometheusRule(Rules)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(PrometheusRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what `make generate` makes of %s: run make generate", PrometheusRuleFile, RulesFile)
	}
	var manifest struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       any    `yaml:"spec"`
	}
	if err := yaml.Unmarshal(got, &manifest); err != nil {
		t.Fatal(err)
	}
	var rules any
	if err := yaml.Unmarshal(Rules, &rules); err != nil {
		t.Fatal(err)
	}
	if manifest.APIVersion != "monitoring.coreos.com/v1" || manifest.Kind != "PrometheusRule" {
		t.Errorf("manifest is %s %s", manifest.APIVersion, manifest.Kind)
	}
	if !reflect.DeepEqual(manifest.Spec, rules) {
		t.Error("the PrometheusRule's spec differs from the rule file")
	}
}

// TestPrometheusRuleSpecPassesPromtool checks the manifest's spec as a rule
// file of its own.
func TestPrometheusRuleSpecPassesPromtool(t *testing.T) {
	promtool := testtools.Require(t, "promtool")
	b, err := os.ReadFile(PrometheusRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct {
		Spec any `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	spec, err := yaml.Marshal(manifest.Spec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "spec.yml")
	if err := os.WriteFile(path, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on the PrometheusRule's spec: %v\n%s", err, out)
	}
}
