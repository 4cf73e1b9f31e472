// Package config says which DataRobot clusters the exporter reads and how:
// their URLs, tokens, TLS settings and time limits.
package config

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
)

// DefaultTimeout bounds one API call unless a cluster says otherwise.
const DefaultTimeout = 10 * time.Second

// Cluster is one DataRobot cluster to read.
type Cluster struct {
	Name      string
	URL       string
	Token     commoncfg.Secret // shown as <secret> whenever printed
	TokenFile string           // preferred to Token; re-read when it changes
	Timeout   time.Duration
	TLS       commoncfg.TLSConfig
}

// tokenSource returns where the cluster's token comes from.
func (c *Cluster) tokenSource() (datarobot.TokenSource, error) {
	if c.TokenFile != "" {
		return datarobot.NewFileToken(c.TokenFile)
	}
	if c.Token == "" {
		return nil, errors.New("no API token")
	}
	return datarobot.StaticToken(c.Token), nil
}

// httpClient builds the HTTP client with the cluster's TLS settings.
func (c *Cluster) httpClient() (*http.Client, error) {
	cfg := commoncfg.HTTPClientConfig{
		TLSConfig:       c.TLS,
		FollowRedirects: true,
		EnableHTTP2:     true,
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return commoncfg.NewClientFromConfig(cfg, "datarobot")
}

// NewClient builds the API client of the cluster. userAgent is sent with
// every request.
func (c *Cluster) NewClient(userAgent string) (*datarobot.Client, error) {
	tokens, err := c.tokenSource()
	if err != nil {
		return nil, err
	}
	hc, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
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
		return nil, errors.New("--datarobot.url is required (or set DATAROBOT_ENDPOINT)")
	}
	if _, err := datarobot.NormalizeEndpoint(f.URL); err != nil {
		return nil, fmt.Errorf("--datarobot.url: %w", err)
	}
	if f.TokenFile == "" && f.EnvToken == "" {
		return nil, errors.New("--datarobot.token-file is required (or set DATAROBOT_API_TOKEN)")
	}
	if f.Timeout <= 0 {
		return nil, fmt.Errorf("--datarobot.timeout must be positive, got %s", f.Timeout)
	}
	c := &Cluster{
		Name:      "default",
		URL:       f.URL,
		Token:     commoncfg.Secret(f.EnvToken),
		TokenFile: f.TokenFile,
		Timeout:   f.Timeout,
		TLS:       commoncfg.TLSConfig{CAFile: f.CAFile, InsecureSkipVerify: f.InsecureSkipVerify},
	}
	if c.TokenFile != "" {
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
