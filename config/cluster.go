// Package config says which DataRobot clusters the exporter reads and how:
// their URLs, tokens, TLS settings and time limits. Clusters come from the
// command line, from a YAML config file, or from DataRobot's own client
// settings (the environment and drconfig.yaml).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
)

// DefaultTimeout bounds one API call unless a cluster says otherwise.
const DefaultTimeout = 10 * time.Second

// Cluster is one DataRobot cluster to read.
type Cluster struct {
	// Name is how /probe?target= and the logs call the cluster.
	Name string `yaml:"name"`
	// URL is the API endpoint, with or without /api/v2.
	URL string `yaml:"url"`
	// TokenFile holds the API token; read again when it changes. Preferred
	// to Token.
	TokenFile string `yaml:"token_file,omitempty"`
	// Token is the API token itself; shown as <secret> whenever printed.
	Token commoncfg.Secret `yaml:"token,omitempty"`

	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
	ProxyURL           string `yaml:"proxy_url,omitempty"`

	// Timeout bounds one API call; DefaultTimeout when not set.
	Timeout model.Duration `yaml:"timeout,omitempty"`
	// MinInterval makes scrapes that come sooner than this after the last
	// call reuse its answer; 0 (the default) calls the API on every scrape.
	MinInterval model.Duration `yaml:"min_interval,omitempty"`
	// Labels are added to every DataRobot metric of the cluster.
	Labels map[string]string `yaml:"labels,omitempty"`
}

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	labelRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// reservedLabels are the exporter's own label names, and Prometheus's
// target labels, which extra labels may not take.
var reservedLabels = map[string]bool{
	"endpoint": true, "reason": true, "flag": true, "ui_label": true,
	"uploader_username": true, "uploader_user_id": true, "version": true, "major": true, "minor": true,
	"job": true, "instance": true,
}

// KeyError is a problem with one key of one cluster.
type KeyError struct {
	Cluster string // its name, or "#N" when it has none
	Key     string
	Err     error
}

func (e *KeyError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("cluster %s: %v", e.Cluster, e.Err)
	}
	return fmt.Sprintf("cluster %s: %s: %v", e.Cluster, e.Key, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// ref names the cluster in errors.
func (c *Cluster) ref(index int) string {
	if c.Name != "" {
		return fmt.Sprintf("%q", c.Name)
	}
	return fmt.Sprintf("#%d", index+1)
}

// validate checks what can be checked without reading files.
func (c *Cluster) validate(index int) error {
	bad := func(key, format string, args ...any) error {
		return &KeyError{Cluster: c.ref(index), Key: key, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case c.Name == "":
		return bad("name", "is required")
	case !nameRE.MatchString(c.Name):
		return bad("name", "%q may hold only letters, digits, '_', '.' and '-', and must start with a letter or digit", c.Name)
	case c.URL == "":
		return bad("url", "is required")
	}
	if _, err := datarobot.NormalizeEndpoint(c.URL); err != nil {
		return bad("url", "%v", err)
	}
	switch {
	case c.TokenFile == "" && c.Token == "":
		return bad("token_file", "is required (or token)")
	case c.TokenFile != "" && c.Token != "":
		return bad("token", "give token_file or token, not both")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return bad("cert_file", "cert_file and key_file go together")
	case c.Timeout < 0:
		return bad("timeout", "must not be negative")
	case c.MinInterval < 0:
		return bad("min_interval", "must not be negative")
	}
	if c.ProxyURL != "" {
		if _, err := parseProxy(c.ProxyURL); err != nil {
			return bad("proxy_url", "%v", err)
		}
	}
	for name := range c.Labels {
		switch {
		case !labelRE.MatchString(name) || len(name) > 1 && name[:2] == "__":
			return bad("labels", "%q is not a valid label name", name)
		case reservedLabels[name]:
			return bad("labels", "%q is a label of the exporter's own metrics or of Prometheus's targets", name)
		}
	}
	return nil
}

// resolve makes the cluster's relative file paths relative to dir.
func (c *Cluster) resolve(dir string) {
	for _, p := range []*string{&c.TokenFile, &c.CAFile, &c.CertFile, &c.KeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

// checkFiles reads the cluster's files once: they must exist and hold what
// they should.
func (c *Cluster) checkFiles(index int) error {
	for key, p := range map[string]string{"ca_file": c.CAFile, "cert_file": c.CertFile, "key_file": c.KeyFile} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return &KeyError{Cluster: c.ref(index), Key: key, Err: err}
		}
	}
	if c.TokenFile != "" {
		if _, err := datarobot.NewFileToken(c.TokenFile); err != nil {
			return &KeyError{Cluster: c.ref(index), Key: "token_file", Err: err}
		}
	}
	if _, err := c.httpClient(); err != nil {
		key := "ca_file"
		if c.CertFile != "" && (strings.Contains(err.Error(), c.CertFile) || strings.Contains(err.Error(), c.KeyFile)) {
			key = "cert_file"
		}
		return &KeyError{Cluster: c.ref(index), Key: key, Err: err}
	}
	return nil
}

// tokenSource returns where the cluster's token comes from. A token file
// that turns unreadable is logged, and its last good token kept.
func (c *Cluster) tokenSource(logger *slog.Logger) (datarobot.TokenSource, error) {
	if c.TokenFile != "" {
		ft, err := datarobot.NewFileToken(c.TokenFile)
		if err != nil {
			return nil, err
		}
		ft.OnError(func(err error) {
			logger.Warn("Token file unreadable; the last good token stays in use", "cluster", c.Name, "err", err)
		})
		return ft, nil
	}
	if c.Token == "" {
		return nil, errors.New("no API token")
	}
	return datarobot.StaticToken(c.Token), nil
}

// httpClient builds the HTTP client with the cluster's TLS and proxy
// settings, through prometheus/common's HTTP client config.
func (c *Cluster) httpClient() (*http.Client, error) {
	cfg := commoncfg.HTTPClientConfig{
		TLSConfig: commoncfg.TLSConfig{
			CAFile:             c.CAFile,
			CertFile:           c.CertFile,
			KeyFile:            c.KeyFile,
			ServerName:         c.ServerName,
			InsecureSkipVerify: c.InsecureSkipVerify,
		},
		FollowRedirects: true,
		EnableHTTP2:     true,
	}
	if c.ProxyURL != "" {
		u, err := parseProxy(c.ProxyURL)
		if err != nil {
			return nil, err
		}
		cfg.ProxyURL = commoncfg.URL{URL: u}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return commoncfg.NewClientFromConfig(cfg, "datarobot")
}

// parseProxy checks a proxy URL: http, https or socks5, with a host.
func parseProxy(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" || u.Host == "" {
		return nil, fmt.Errorf("%q must be an absolute http, https or socks5 URL", u.Redacted())
	}
	return u, nil
}

// NewClient builds the API client of the cluster. userAgent is sent with
// every request; logger hears of a token file that turns unreadable.
func (c *Cluster) NewClient(userAgent string, logger *slog.Logger) (*datarobot.Client, error) {
	tokens, err := c.tokenSource(logger)
	if err != nil {
		return nil, err
	}
	hc, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	timeout := time.Duration(c.Timeout)
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return datarobot.NewClient(datarobot.Options{
		Endpoint:   c.URL,
		Token:      tokens,
		HTTPClient: hc,
		UserAgent:  userAgent,
		Timeout:    timeout,
	})
}
