package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"
)

// Config is the config file: the clusters /probe serves.
type Config struct {
	Clusters []*Cluster `yaml:"clusters"`
}

// Cluster returns the cluster named name, or nil.
func (c *Config) Cluster(name string) *Cluster {
	for _, cl := range c.Clusters {
		if cl.Name == name {
			return cl
		}
	}
	return nil
}

// UnmarshalYAML reads the clusters, then checks that there is at least one
// and that no two share a name.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	type plain Config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if len(c.Clusters) == 0 {
		return errors.New("clusters: at least one cluster is required")
	}
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		if cl == nil {
			return fmt.Errorf("clusters: entry #%d is empty", i+1)
		}
		if err := cl.validate(i); err != nil {
			return err
		}
		if seen[cl.Name] {
			return &KeyError{Cluster: cl.ref(i), Key: "name", Err: errors.New("used by another cluster too")}
		}
		seen[cl.Name] = true
	}
	return nil
}

// UnmarshalYAML reads a cluster. Its durations are checked first, so that
// an error names the key; the rest is checked by Config.UnmarshalYAML.
func (c *Cluster) UnmarshalYAML(unmarshal func(any) error) error {
	var raw map[string]any
	if err := unmarshal(&raw); err != nil {
		return err
	}
	ref := "#?"
	if n, ok := raw["name"].(string); ok && n != "" {
		ref = fmt.Sprintf("%q", n)
	}
	for _, key := range []string{"timeout", "min_interval"} {
		if v, ok := raw[key]; ok && v != nil {
			if _, err := model.ParseDuration(fmt.Sprint(v)); err != nil {
				return &KeyError{Cluster: ref, Key: key, Err: fmt.Errorf("%q is not a duration such as 30s or 1m", fmt.Sprint(v))}
			}
		}
	}
	type plain Cluster
	if err := unmarshal((*plain)(c)); err != nil {
		if ref != "#?" {
			return fmt.Errorf("cluster %s: %w", ref, err)
		}
		return err
	}
	return nil
}

// Parse reads a config file's content strictly: an unknown key is an
// error. Relative file paths are taken relative to dir. It reads no file.
func Parse(b []byte, dir string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.SetStrict(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, cleanYAMLError(err)
	}
	for _, cl := range c.Clusters {
		cl.resolve(dir)
	}
	return &c, nil
}

// Load reads, parses and checks a config file, and checks that the files it
// names exist and can be used. Every error names the file, and where it can
// the cluster and the key.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(b, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i, cl := range c.Clusters {
		if err := cl.checkFiles(i); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return c, nil
}

// String prints the config as YAML, with every token as <secret>.
func (c *Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("<cannot print the config: %v>", err)
	}
	return string(b)
}

var (
	notFoundRE = regexp.MustCompile(`field (\S+) not found in type \S+`)
	typeRE     = regexp.MustCompile("cannot unmarshal !!(\\w+) `([^`]*)` into (\\S+)")
	kindRE     = regexp.MustCompile(`cannot unmarshal !!(\w+) into (\S+)`)
)

// cleanYAMLError makes go-yaml's errors read as this file's: one line, with
// the line number and the key, and no Go type names.
func cleanYAMLError(err error) error {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "yaml: ", "")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	msg = notFoundRE.ReplaceAllString(msg, "unknown key \"$1\"")
	msg = typeRE.ReplaceAllStringFunc(msg, func(m string) string {
		p := typeRE.FindStringSubmatch(m)
		return fmt.Sprintf("%q is %s, want %s", p[2], yamlKind(p[1]), goKind(p[3]))
	})
	msg = kindRE.ReplaceAllStringFunc(msg, func(m string) string {
		p := kindRE.FindStringSubmatch(m)
		return fmt.Sprintf("found %s, want %s", yamlKind(p[1]), goKind(p[2]))
	})
	return errors.New(msg)
}

func yamlKind(tag string) string {
	switch tag {
	case "str":
		return "a string"
	case "int", "float":
		return "a number"
	case "bool":
		return "true or false"
	case "map":
		return "a mapping"
	case "seq":
		return "a list"
	}
	return "a " + tag
}

func goKind(goType string) string {
	switch goType {
	case "bool":
		return "true or false"
	case "[]*config.Cluster":
		return "a list of clusters"
	case "map[string]string":
		return "a mapping of label names to values"
	case "string", "config.Secret":
		return "a string"
	}
	return "another kind of value"
}
