// Package alerts holds the Prometheus alerting rules shipped with the
// exporter, and makes the Prometheus Operator's PrometheusRule from them.
package alerts

//go:generate go run ./gen

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// RulesFile is the rule file's name in this folder.
const RulesFile = "datarobot-license.rules.yml"

// PrometheusRuleFile is the generated manifest's name in this folder.
const PrometheusRuleFile = "prometheusrule.yaml"

// Rules is the rule file as shipped.
//
//go:embed datarobot-license.rules.yml
var Rules []byte

// RuleFile is the part of a Prometheus rule file the tests read.
type RuleFile struct {
	Groups []Group `yaml:"groups"`
}

// Group is a rule group.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is an alerting or a recording rule.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Parse reads a rule file strictly: an unknown key is an error.
func Parse(b []byte) (*RuleFile, error) {
	var f RuleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	return &f, nil
}

// generatedHeader starts the PrometheusRule manifest.
const generatedHeader = "# Generated from " + RulesFile + " by `make generate`. Do not edit.\n"

// PrometheusRule wraps a rule file's groups in a PrometheusRule manifest
// for the Prometheus Operator, keeping the rules' text and comments.
func PrometheusRule(rules []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("rule file is not a YAML mapping")
	}
	root := doc.Content[0]
	var groups *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "groups" {
			groups = root.Content[i+1]
		}
	}
	if groups == nil {
		return nil, errors.New("rule file has no groups")
	}
	// The file's own head comment describes the file, not the manifest.
	doc.HeadComment, root.HeadComment, root.Content[0].HeadComment = "", "", ""

	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	mapping := func(kv ...*yaml.Node) *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode, Content: kv} }
	manifest := mapping(
		str("apiVersion"), str("monitoring.coreos.com/v1"),
		str("kind"), str("PrometheusRule"),
		str("metadata"), mapping(
			str("name"), str("datarobot-license"),
			str("labels"), mapping(
				str("app.kubernetes.io/name"), str("datarobot-license-exporter"),
				str("app.kubernetes.io/component"), str("alerting-rules"),
			),
		),
		str("spec"), mapping(str("groups"), groups),
	)
	var buf bytes.Buffer
	buf.WriteString(generatedHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(manifest); err != nil {
		return nil, fmt.Errorf("encoding the PrometheusRule: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
