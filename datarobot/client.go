package datarobot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBodyBytes bounds what the client reads of one answer. A license
// with 500 feature flags is about 50 KiB; this allows some 10,000.
const DefaultMaxBodyBytes = 1 << 20

// apiPath is the path of DataRobot's public API below the host.
const apiPath = "/api/v2"

// TokenSource gives the API token for each request, so that a rotated token
// is picked up without a restart.
type TokenSource interface {
	Token() (string, error)
}

// StaticToken is a TokenSource that never changes.
type StaticToken string

// Token returns the token.
func (t StaticToken) Token() (string, error) { return string(t), nil }

// Options configures a Client. Endpoint and Token are required.
type Options struct {
	// Endpoint is DataRobot's API address, with or without the trailing
	// /api/v2: https://datarobot.example.com and
	// https://datarobot.example.com/api/v2 are the same.
	Endpoint string
	Token    TokenSource
	// HTTPClient carries TLS and proxy settings; http.DefaultClient if nil.
	// Its own Timeout is left alone: bound calls with the context.
	HTTPClient *http.Client
	// UserAgent is sent with every request.
	UserAgent string
	// Timeout bounds every call, in addition to the caller's context.
	Timeout time.Duration
	// MaxBodyBytes bounds what is read of an answer; DefaultMaxBodyBytes if 0.
	MaxBodyBytes int64
}

// Client calls DataRobot's API. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	token      TokenSource
	http       *http.Client
	userAgent  string
	timeout    time.Duration
	maxBody    int64
	redactedEP string

	// The last answer of each GET of ClusterLicense and Version, and what
	// it decoded to: an answer the same to the byte is not decoded again.
	memoMu sync.Mutex
	memo   map[string]memoEntry
}

type memoEntry struct {
	body  []byte
	value any
}

// NewClient checks the options and returns a Client.
func NewClient(o Options) (*Client, error) {
	base, err := NormalizeEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	if o.Token == nil {
		return nil, errors.New("no API token source")
	}
	c := &Client{
		base:       base,
		token:      o.Token,
		http:       o.HTTPClient,
		userAgent:  o.UserAgent,
		timeout:    o.Timeout,
		maxBody:    o.MaxBodyBytes,
		redactedEP: base.Redacted(),
		memo:       map[string]memoEntry{},
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	return c, nil
}

// Endpoint returns the API base URL in use, with any password redacted.
func (c *Client) Endpoint() string { return c.redactedEP }

// NormalizeEndpoint parses an endpoint and returns its URL ending in /api/v2.
func NormalizeEndpoint(endpoint string) (*url.URL, error) {
	endpoint = strings.TrimSpace(endpoint)
	if endpoint == "" {
		return nil, errors.New("empty endpoint")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint URL: %w", errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("endpoint %q must start with http:// or https://", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("endpoint %q has no host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("endpoint %q must not have a query or fragment", u.Redacted())
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, apiPath) {
		p += apiPath
	}
	u.Path, u.RawPath = p, ""
	return u, nil
}

// ClusterLicense calls GET clusterLicense/. The result may be shared with
// other calls: do not change it.
func (c *Client) ClusterLicense(ctx context.Context) (*ClusterLicense, error) {
	return memoCall(c, ctx, "clusterLicense/", DecodeClusterLicense)
}

// Version calls GET version/. The result may be shared with other calls:
// do not change it.
func (c *Client) Version(ctx context.Context) (*Version, error) {
	return memoCall(c, ctx, "version/", DecodeVersion)
}

// memoCall is call for answers that rarely change: the call is made every
// time, but an answer the same to the byte as the last one is not decoded
// again; its earlier result is returned.
func memoCall[T any](c *Client, ctx context.Context, ep string, decode func([]byte) (*T, error)) (*T, error) {
	return call(c, ctx, ep, func(body []byte) (*T, error) {
		c.memoMu.Lock()
		m, ok := c.memo[ep]
		c.memoMu.Unlock()
		if ok && bytes.Equal(m.body, body) {
			return m.value.(*T), nil
		}
		v, err := decode(body)
		if err == nil {
			c.memoMu.Lock()
			c.memo[ep] = memoEntry{body: body, value: v}
			c.memoMu.Unlock()
		}
		return v, err
	})
}

// ValidateLicense calls POST clusterLicenseValidation/ with a license key:
// DataRobot checks the key without installing it, and answers with the
// license it holds. An invalid or expired key is an *Error with status 422
// (see IsInvalidLicense). The key is never part of an error.
func (c *Client) ValidateLicense(ctx context.Context, key string) (*LicenseInfo, error) {
	body, err := json.Marshal(map[string]string{"licenseKey": key})
	if err != nil {
		return nil, err
	}
	// The answer is a licenseInfo, as clusterLicense's, without uploadInfo.
	l, err := callWith(c, ctx, http.MethodPost, "clusterLicenseValidation/", body, []string{key}, DecodeClusterLicense)
	if err != nil {
		return nil, err
	}
	return &l.LicenseInfo, nil
}

// IsInvalidLicense reports whether err is DataRobot's answer that a
// license key is invalid or has expired (HTTP 422).
func IsInvalidLicense(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusUnprocessableEntity
}

// call GETs ep and decodes the answer; a decoding error is a bad_response.
func call[T any](c *Client, ctx context.Context, ep string, decode func([]byte) (*T, error)) (*T, error) {
	return callWith(c, ctx, http.MethodGet, ep, nil, nil, decode)
}

// callWith makes a request and decodes the answer. secrets are redacted
// from every error, as the token is.
func callWith[T any](c *Client, ctx context.Context, method, ep string, reqBody []byte, secrets []string, decode func([]byte) (*T, error)) (*T, error) {
	body, token, err := c.do(ctx, method, ep, reqBody, secrets)
	if err != nil {
		return nil, err
	}
	v, err := decode(body)
	if err != nil {
		return nil, &Error{Reason: ReasonBadResponse, Method: method, Endpoint: ep, StatusCode: http.StatusOK, Message: redactAll(err.Error(), token, secrets)}
	}
	return v, nil
}

// DecodeClusterLicense decodes and checks an answer of clusterLicense: a
// JSON object with a licenseInfo whose expirationTimestamp parses and whose
// expired is set.
func DecodeClusterLicense(body []byte) (*ClusterLicense, error) {
	var l ClusterLicense
	if err := decodeObject(body, &l); err != nil {
		return nil, err
	}
	if err := l.validate(); err != nil {
		return nil, err
	}
	return &l, nil
}

// DecodeVersion decodes and checks an answer of version.
func DecodeVersion(body []byte) (*Version, error) {
	var v versionWire
	if err := decodeObject(body, &v); err != nil {
		return nil, err
	}
	return v.validate()
}

// do makes a request to base/ep (which may end in a query) and returns the
// body of a 2xx answer, and the token it sent, to redact. Every error it
// returns is an *Error, with the token and secrets redacted.
func (c *Client) do(ctx context.Context, method, ep string, reqBody []byte, secrets []string) ([]byte, string, error) {
	token := ""
	fail := func(r Reason, code int, msg string) error {
		return &Error{Reason: r, Method: method, Endpoint: ep, StatusCode: code, Message: redactAll(msg, token, secrets)}
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	token, err := c.token.Token()
	if err != nil {
		return nil, "", fail(ReasonUnauthorized, 0, "no API token: "+err.Error())
	}
	path, query, _ := strings.Cut(ep, "?")
	u := *c.base
	u.Path += "/" + path
	u.RawQuery = query
	var rb io.Reader
	if reqBody != nil {
		rb = bytes.NewReader(reqBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rb)
	if err != nil {
		return nil, token, fail(ReasonConnection, 0, err.Error())
	}
	if reqBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, token, fail(transportReason(err), 0, describeTransport(err))
	}
	defer resp.Body.Close()

	if resp.ContentLength > c.maxBody && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		// Refused unread: no need to fetch what will not be used.
		return nil, token, fail(ReasonBadResponse, resp.StatusCode, fmt.Sprintf("answer larger than %d bytes", c.maxBody))
	}
	body, readErr := readBody(resp, c.maxBody)
	tooLarge := int64(len(body)) > c.maxBody

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		retry := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		e := &Error{
			Reason:     statusReason(resp.StatusCode, retry),
			Method:     method,
			Endpoint:   ep,
			StatusCode: resp.StatusCode,
			Message:    redactAll(upstreamMessage(body), token, secrets),
		}
		if e.Reason == ReasonRateLimited {
			e.RetryAfter = retry
		}
		return nil, token, e
	}
	if readErr != nil {
		return nil, token, fail(transportReason(readErr), resp.StatusCode, "reading the answer: "+describeTransport(readErr))
	}
	if tooLarge {
		return nil, token, fail(ReasonBadResponse, resp.StatusCode, fmt.Sprintf("answer larger than %d bytes", c.maxBody))
	}
	return body, token, nil
}

// readBody reads at most limit+1 bytes of an answer, into a buffer sized
// from Content-Length when the server sent one, so that reading does not
// grow the buffer by doubling.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	size := int64(16 << 10)
	if resp.ContentLength >= 0 {
		size = resp.ContentLength + 1 // +1: EOF is seen without growing
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(size, limit+1)))
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	return buf.Bytes(), err
}

// decodeObject decodes body, which must be a single JSON object.
func decodeObject(body []byte, out any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("answer is not a JSON object: %s", upstreamMessage(body))
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: data after the object")
	}
	return nil
}

// describeTransport shortens a transport error: url.Error repeats the
// method and URL, which the Error already names.
func describeTransport(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "deadline exceeded"
	}
	return clean(err.Error())
}

// redact removes the token from s, should an upstream echo it.
func redact(s, token string) string {
	if len(token) < 4 {
		return s
	}
	return strings.ReplaceAll(s, token, "<redacted>")
}

// redactAll removes the token and other secrets from s.
func redactAll(s, token string, secrets []string) string {
	s = redact(s, token)
	for _, sec := range secrets {
		s = redact(s, sec)
	}
	return s
}

// validate checks what the exporter cannot do without.
func (l *ClusterLicense) validate() error {
	exp := l.LicenseInfo.ExpirationTimestamp
	if exp.Raw == "" {
		return errors.New("licenseInfo.expirationTimestamp is missing")
	}
	if !exp.Valid {
		_, err := ParseTimestamp(exp.Raw)
		return fmt.Errorf("licenseInfo.expirationTimestamp: %v", err)
	}
	if l.LicenseInfo.Expired == nil {
		return errors.New("licenseInfo.expired is missing")
	}
	return nil
}

// versionWire keeps the fields optional while decoding, to say which is
// missing.
type versionWire struct {
	Major         *int64  `json:"major"`
	Minor         *int64  `json:"minor"`
	VersionString *string `json:"versionString"`
}

func (v versionWire) validate() (*Version, error) {
	switch {
	case v.VersionString == nil:
		return nil, errors.New("versionString is missing")
	case v.Major == nil:
		return nil, errors.New("major is missing")
	case v.Minor == nil:
		return nil, errors.New("minor is missing")
	}
	return &Version{Major: *v.Major, Minor: *v.Minor, VersionString: *v.VersionString}, nil
}
