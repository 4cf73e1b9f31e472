// Package fakeapi is a fake of DataRobot's license API: GET clusterLicense
// and GET version, shaped field by field as DataRobot's API reference has
// them. It checks the bearer token, counts calls, and fails on demand in
// every way the exporter must survive. Tests and the demo use it.
package fakeapi

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The API paths the fake serves, below its root.
const (
	LicensePath     = "/api/v2/clusterLicense/"
	VersionPath     = "/api/v2/version/"
	ValidationPath  = "/api/v2/clusterLicenseValidation/"
	DeploymentsPath = "/api/v2/deployments/"
)

// TimestampLayout is how DataRobot writes times: 2020-12-21T23:59:59.000000Z.
const TimestampLayout = "2006-01-02T15:04:05.000000Z"

// Fault is a way for the fake to fail.
type Fault string

// The faults. Each names what the fake answers instead of the data.
const (
	FaultNone         Fault = ""
	FaultUnauthorized Fault = "unauthorized" // 401 {"message": ...} that echoes the token, as some servers do
	FaultForbidden    Fault = "forbidden"    // 403 {"detail": ...}, a token without the admin permission
	FaultNotFound     Fault = "not_found"    // 404 {"message": ...}, not a self-managed cluster
	FaultRateLimited  Fault = "rate_limited" // 429 with Retry-After (SetRetryAfter; 30 s unless set)
	FaultUnavailable  Fault = "unavailable"  // 503 with Retry-After, which makes it rate limiting
	FaultServerError  Fault = "server_error" // 500 with a plain-text body, as from a proxy
	FaultBadGateway   Fault = "bad_gateway"  // 502 with an HTML body
	FaultHTML         Fault = "html"         // 200 with an HTML login page instead of JSON
	FaultTruncated    Fault = "truncated"    // 200 with the JSON cut in half
	FaultHang         Fault = "hang"         // sends headers, then nothing until the client gives up
	FaultEndless      Fault = "endless"      // 200 with a body that never ends
	FaultHuge         Fault = "huge"         // 200 with a 1 GiB body, Content-Length and all
	FaultReset        Fault = "reset"        // closes the connection without an answer
)

// Faults lists every fault.
var Faults = []Fault{
	FaultUnauthorized, FaultForbidden, FaultNotFound, FaultRateLimited, FaultUnavailable,
	FaultServerError, FaultBadGateway, FaultHTML, FaultTruncated, FaultHang, FaultEndless, FaultHuge, FaultReset,
}

// ParseFault checks a fault's name.
func ParseFault(s string) (Fault, error) {
	if s == "" || s == "none" {
		return FaultNone, nil
	}
	for _, f := range Faults {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Faults))
	for i, f := range Faults {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown fault %q (want none, %s)", s, strings.Join(names, ", "))
}

// Flag is one license feature flag.
type Flag struct {
	Key       string
	UILabel   string // left out of the JSON when empty: the reference makes it optional
	UITooltip string
	Value     bool
}

// License is what the fake's clusterLicense answers.
type License struct {
	ConcurrentWorkers  int64
	Expiration         time.Time
	Expired            bool
	Flags              []Flag
	MaxDeployments     int64
	MaxActiveUsers     int64
	PrepaidDeployments int64
	// Newer servers only; nil leaves the field out.
	GenAISeats    *int64
	AgenticSeats  *int64
	CPUUsageLimit *int64
	UploadTime    time.Time
	UploaderID    string
	UploaderName  string
	Extra         map[string]any // more top-level fields of licenseInfo, as a newer server might send
}

// Version is what the fake's version answers.
type Version struct {
	Major, Minor int64
	String       string
}

// DefaultVersion is the version the fake reports unless told otherwise.
var DefaultVersion = Version{Major: 2, Minor: 36, String: "2.36.0"}

// ExampleFlags returns n feature flags with DataRobot-like names; every
// third one is disabled.
func ExampleFlags(n int) []Flag {
	known := []Flag{
		{Key: "ENABLE_MLOPS", UILabel: "MLOps", UITooltip: "Deploy and monitor models", Value: true},
		{Key: "ENABLE_TIME_SERIES", UILabel: "Time Series", UITooltip: "Time series projects", Value: true},
		{Key: "ENABLE_GENAI", UILabel: "Generative AI", UITooltip: "LLM playgrounds and blueprints", Value: false},
	}
	flags := make([]Flag, n)
	for i := range flags {
		if i < len(known) {
			flags[i] = known[i]
			continue
		}
		flags[i] = Flag{
			Key:       fmt.Sprintf("ENABLE_FEATURE_%03d", i),
			UILabel:   fmt.Sprintf("Feature %03d", i),
			UITooltip: fmt.Sprintf("Tooltip of feature %03d", i),
			Value:     i%3 != 2,
		}
	}
	return flags
}

// ExampleLicense returns a license that expires at exp, with n feature flags.
func ExampleLicense(exp time.Time, n int) License {
	return License{
		ConcurrentWorkers:  40,
		Expiration:         exp,
		Expired:            false,
		Flags:              ExampleFlags(n),
		MaxDeployments:     100,
		MaxActiveUsers:     0,
		PrepaidDeployments: 50,
		UploadTime:         time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC),
		UploaderID:         "5e8f1a2b3c4d5e6f7a8b9c0d",
		UploaderName:       "admin@example.com",
	}
}

// JSON renders the license as clusterLicense does.
func (l License) JSON() []byte {
	return l.render(true)
}

// ValidationJSON renders the license as clusterLicenseValidation does: its
// licenseInfo only.
func (l License) ValidationJSON() []byte {
	return l.render(false)
}

func (l License) render(withUpload bool) []byte {
	flags := make(map[string]any, len(l.Flags))
	for _, f := range l.Flags {
		o := map[string]any{"value": f.Value}
		if f.UILabel != "" {
			o["uiLabel"] = f.UILabel
		}
		if f.UITooltip != "" {
			o["uiTooltip"] = f.UITooltip
		}
		flags[f.Key] = o
	}
	info := map[string]any{
		"concurrentWorkersCount": l.ConcurrentWorkers,
		"expirationTimestamp":    l.Expiration.UTC().Format(TimestampLayout),
		"expired":                l.Expired,
		"featureFlags":           flags,
		"maxDeploymentLimit":     l.MaxDeployments,
		"maximumActiveUsers":     l.MaxActiveUsers,
		"prepaidDeploymentLimit": l.PrepaidDeployments,
	}
	for k, v := range map[string]*int64{
		"genAiSeatLicensesLimit":                       l.GenAISeats,
		"agenticPredictiveGovernanceSeatLicensesLimit": l.AgenticSeats,
		"cpuUsageLimit":                                l.CPUUsageLimit,
	} {
		if v != nil {
			info[k] = *v
		}
	}
	for k, v := range l.Extra {
		info[k] = v
	}
	out := map[string]any{"licenseInfo": info}
	if withUpload {
		out["uploadInfo"] = map[string]any{
			"uploadTimestamp":  l.UploadTime.UTC().Format(TimestampLayout),
			"uploaderUserId":   l.UploaderID,
			"uploaderUsername": l.UploaderName,
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err) // only plain values above
	}
	return b
}

// Server is the fake API. Make one with New, then serve it with
// httptest.NewServer(s) or any http.Server.
type Server struct {
	token string

	mu       sync.Mutex
	license  []byte
	version  []byte
	faults   map[string]Fault // by path; "" for every path
	delay    time.Duration
	retry    string // Retry-After of 429 and 503
	hold     chan struct{}
	calls    map[string]int
	inFlight map[string]int
	tokens   map[string]int

	keys        map[string][]byte // license keys clusterLicenseValidation knows
	deployments int
	noTotal     bool // deployments answers without totalCount
	puts        int
}

// New returns a fake that accepts only token and serves lic and
// DefaultVersion.
func New(token string, lic License) *Server {
	s := &Server{
		token:    token,
		faults:   map[string]Fault{},
		calls:    map[string]int{},
		inFlight: map[string]int{},
		tokens:   map[string]int{},
		retry:    "30",
		keys:     map[string][]byte{},
	}
	s.SetLicense(lic)
	s.SetVersion(DefaultVersion)
	return s
}

// SetToken changes the token the fake accepts, as when a token is rotated.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// SetLicense changes what clusterLicense answers.
func (s *Server) SetLicense(l License) { s.SetLicenseJSON(l.JSON()) }

// SetLicenseJSON makes clusterLicense answer body as it is.
func (s *Server) SetLicenseJSON(body []byte) {
	s.mu.Lock()
	s.license = body
	s.mu.Unlock()
}

// SetVersion changes what version answers.
func (s *Server) SetVersion(v Version) {
	b, _ := json.Marshal(map[string]any{"major": v.Major, "minor": v.Minor, "versionString": v.String})
	s.SetVersionJSON(b)
}

// SetVersionJSON makes version answer body as it is.
func (s *Server) SetVersionJSON(body []byte) {
	s.mu.Lock()
	s.version = body
	s.mu.Unlock()
}

// SetFault makes path (LicensePath, VersionPath, or "" for both) fail with f.
// FaultNone heals it.
func (s *Server) SetFault(path string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == "" {
		clear(s.faults)
	}
	s.faults[path] = f
}

// AddLicenseKey makes clusterLicenseValidation accept key, answering with
// lic. Any other key gets 422, as an invalid or expired key does.
func (s *Server) AddLicenseKey(key string, lic License) {
	s.mu.Lock()
	s.keys[key] = lic.ValidationJSON()
	s.mu.Unlock()
}

// SetDeployments makes deployments list n deployments, with totalCount, or
// without it when withTotal is false (then only page by page).
func (s *Server) SetDeployments(n int, withTotal bool) {
	s.mu.Lock()
	s.deployments, s.noTotal = n, !withTotal
	s.mu.Unlock()
}

// Puts returns how many PUT clusterLicense requests (installing a license)
// reached the fake.
func (s *Server) Puts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

// SetRetryAfter sets the Retry-After of the 429 and 503 faults, in
// seconds; 0 leaves the header out. The default is 30.
func (s *Server) SetRetryAfter(seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retry = ""
	if seconds > 0 {
		s.retry = strconv.Itoa(seconds)
	}
}

// SetDelay makes every answer wait d first.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Hold makes every request wait until the returned function is called.
func (s *Server) Hold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(ch)
		})
	}
}

// Calls returns how many requests reached path, whatever their answer.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// TotalCalls returns how many requests reached the fake.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// InFlight returns how many requests to path are being answered now.
func (s *Server) InFlight(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight[path]
}

// TokensSeen returns the bearer tokens presented so far, sorted.
func (s *Server) TokensSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.tokens))
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if !strings.HasSuffix(path, "/") {
		path += "/" // DataRobot answers both forms
	}
	tok, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")

	s.mu.Lock()
	s.calls[path]++
	s.inFlight[path]++
	if hasBearer {
		s.tokens[tok]++
	}
	hold, delay, want, retry := s.hold, s.delay, s.token, s.retry
	fault, ok := s.faults[path]
	if !ok {
		fault = s.faults[""]
	}
	var body []byte
	var status = http.StatusOK
	switch {
	case path == LicensePath && r.Method == http.MethodPut:
		s.puts++
		body = []byte(`{}`)
	case path == LicensePath && r.Method == http.MethodGet:
		body = s.license
	case path == VersionPath && r.Method == http.MethodGet:
		body = s.version
	case path == ValidationPath && r.Method == http.MethodPost:
		body, status = s.validate(r)
	case path == DeploymentsPath && r.Method == http.MethodGet:
		body = s.deploymentsPage(r)
	case path == LicensePath || path == VersionPath || path == ValidationPath || path == DeploymentsPath:
		status = http.StatusMethodNotAllowed
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight[path]--
		s.mu.Unlock()
	}()

	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}

	switch {
	case status == http.StatusMethodNotAllowed:
		writeJSON(w, status, map[string]string{"message": "Method not allowed"})
		return
	case body == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Resource not found"})
		return
	case !hasBearer || tok != want:
		// Some servers echo what they were sent; the exporter must redact it.
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid API token: " + tok})
		return
	case status != http.StatusOK && fault == FaultNone:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	serveFault(w, r, fault, body, retry)
}

// validate answers clusterLicenseValidation; the caller holds s.mu.
func (s *Server) validate(r *http.Request) ([]byte, int) {
	var req struct {
		LicenseKey string `json:"licenseKey"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || req.LicenseKey == "" {
		return []byte(`{"message": "licenseKey is required"}`), http.StatusUnprocessableEntity
	}
	if b, ok := s.keys[req.LicenseKey]; ok {
		return b, http.StatusOK
	}
	return []byte(`{"message": "License is invalid or has expired."}`), http.StatusUnprocessableEntity
}

// deploymentsPage answers one page of deployments; the caller holds s.mu.
func (s *Server) deploymentsPage(r *http.Request) []byte {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 20
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(0, min(offset, s.deployments))
	end := min(offset+limit, s.deployments)
	data := make([]map[string]string, 0, end-offset)
	for i := offset; i < end; i++ {
		data = append(data, map[string]string{"id": fmt.Sprintf("dep%06d", i), "label": fmt.Sprintf("Deployment %d", i)})
	}
	page := map[string]any{"count": len(data), "data": data, "previous": nil, "next": nil}
	if end < s.deployments {
		page["next"] = fmt.Sprintf("http://%s%s?limit=%d&offset=%d", r.Host, DeploymentsPath, limit, end)
	}
	if !s.noTotal {
		page["totalCount"] = s.deployments
	}
	b, _ := json.Marshal(page)
	return b
}

func serveFault(w http.ResponseWriter, r *http.Request, f Fault, body []byte, retry string) {
	switch f {
	case FaultNone:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	case FaultUnauthorized:
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid API token: " + tok})
	case FaultForbidden:
		writeJSON(w, http.StatusForbidden, map[string]string{"detail": "You do not have permission to perform this action: CAN_MANAGE_CLUSTER_LICENSE required"})
	case FaultNotFound:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Resource not found"})
	case FaultRateLimited:
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "Rate limit exceeded"})
	case FaultUnavailable:
		if retry != "" {
			w.Header().Set("Retry-After", retry)
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("Service temporarily unavailable\n"))
	case FaultServerError:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("upstream connect error or disconnect/reset before headers\n"))
	case FaultBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"))
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>DataRobot - Sign in</title></head><body><form>Sign in</form></body></html>\n"))
	case FaultTruncated:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body[:len(body)/2])
	case FaultHang:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"licenseInfo": {`))
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		<-r.Context().Done()
	case FaultEndless:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(`{"licenseInfo": [`, 4096))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case FaultHuge:
		const size = 1 << 30
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 64<<10)
		for i := range chunk {
			chunk[i] = ' '
		}
		for sent := 0; sent < size && r.Context().Err() == nil; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case FaultReset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN
		}
		_ = conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
