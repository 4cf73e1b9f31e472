package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
)

// Flags are the command line's way to name one cluster.
type Flags struct {
	URL                string // --datarobot.url, default $DATAROBOT_ENDPOINT
	TokenFile          string // --datarobot.token-file
	EnvToken           string // $DATAROBOT_API_TOKEN
	Timeout            time.Duration
	CAFile             string
	InsecureSkipVerify bool
}

// Cluster checks the flags and returns the cluster they name. Each error
// is one line that names the flag to fix.
func (f Flags) Cluster() (*Cluster, error) {
	if f.URL == "" {
		return nil, errors.New("--datarobot.url is required (or DATAROBOT_ENDPOINT, endpoint in drconfig.yaml, or --config.file)")
	}
	if _, err := datarobot.NormalizeEndpoint(f.URL); err != nil {
		return nil, fmt.Errorf("--datarobot.url: %w", err)
	}
	if f.TokenFile == "" && f.EnvToken == "" {
		return nil, errors.New("--datarobot.token-file is required (or DATAROBOT_API_TOKEN, or token in drconfig.yaml)")
	}
	if f.Timeout <= 0 {
		return nil, fmt.Errorf("--datarobot.timeout must be positive, got %s", f.Timeout)
	}
	c := &Cluster{
		Name:               "default",
		URL:                f.URL,
		Token:              commoncfg.Secret(f.EnvToken),
		TokenFile:          f.TokenFile,
		Timeout:            model.Duration(f.Timeout),
		CAFile:             f.CAFile,
		InsecureSkipVerify: f.InsecureSkipVerify,
	}
	if c.TokenFile != "" {
		c.Token = ""
		if _, err := datarobot.NewFileToken(c.TokenFile); err != nil {
			return nil, fmt.Errorf("--datarobot.token-file %s: %w", c.TokenFile, err)
		}
	}
	if f.CAFile != "" {
		if _, err := c.httpClient(); err != nil {
			return nil, fmt.Errorf("--datarobot.ca-file %s: %w", f.CAFile, err)
		}
	}
	return c, nil
}

// DRConfig is DataRobot's client settings file, drconfig.yaml, as its own
// clients read it. Only the keys the exporter uses are read; the file may
// hold others.
type DRConfig struct {
	Endpoint  string `yaml:"endpoint"`
	Token     string `yaml:"token"`
	SSLVerify any    `yaml:"ssl_verify"` // true, false, or a CA file
}

// DRConfigPath returns where DataRobot's clients look for drconfig.yaml:
// $DATAROBOT_CONFIG_FILE, else $XDG_CONFIG_HOME/datarobot/drconfig.yaml,
// else ~/.config/datarobot/drconfig.yaml. getenv is os.Getenv but in tests.
func DRConfigPath(getenv func(string) string) string {
	if p := getenv("DATAROBOT_CONFIG_FILE"); p != "" {
		return p
	}
	base := getenv("XDG_CONFIG_HOME")
	if base == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "datarobot", "drconfig.yaml")
}

// FromDataRobotSettings fills what the flags leave empty as DataRobot's own
// clients do: DATAROBOT_ENDPOINT and DATAROBOT_API_TOKEN (which the flags
// already read), then drconfig.yaml. A missing drconfig.yaml is no error
// unless DATAROBOT_CONFIG_FILE names it.
func (f Flags) FromDataRobotSettings(getenv func(string) string) (Flags, string, error) {
	path := DRConfigPath(getenv)
	if path == "" || f.URL != "" && (f.TokenFile != "" || f.EnvToken != "") {
		return f, "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) && getenv("DATAROBOT_CONFIG_FILE") == "" {
			return f, "", nil
		}
		return f, "", fmt.Errorf("DataRobot client config %s: %w", path, errors.Unwrap(err))
	}
	var dr DRConfig
	if err := yaml.Unmarshal(b, &dr); err != nil {
		return f, "", fmt.Errorf("DataRobot client config %s: %v", path, cleanYAMLError(err))
	}
	if f.URL == "" {
		f.URL = strings.TrimSpace(dr.Endpoint)
	}
	if f.TokenFile == "" && f.EnvToken == "" {
		f.EnvToken = strings.TrimSpace(dr.Token)
	}
	switch v := dr.SSLVerify.(type) {
	case bool:
		if !v && f.CAFile == "" {
			f.InsecureSkipVerify = true
		}
	case string:
		if f.CAFile == "" && v != "" {
			f.CAFile = v
		}
	}
	return f, path, nil
}
