// Package server serves the exporter's HTTP endpoints: /metrics for the
// cluster named by flags, /probe?target=NAME for the clusters of the config
// file, /-/reload, the landing page and the health check.
package server

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
)

// Options configures the server.
type Options struct {
	Logger *slog.Logger
	// Default is the cluster named by flags, served on /metrics; nil when
	// none is.
	Default *Target
	// Targets are the config file's clusters, served on /probe; nil
	// without a config file.
	Targets *Targets
	// Reload reloads the config file, for POST /-/reload; nil without one.
	Reload func() error
	// Gatherer has the exporter's own metrics: build info, Go, process.
	Gatherer prometheus.Gatherer
	// TelemetryPath is where metrics are served, such as /metrics.
	TelemetryPath string
	// TimeoutOffset is taken from X-Prometheus-Scrape-Timeout-Seconds, so
	// that the answer reaches Prometheus before it gives up.
	TimeoutOffset time.Duration
	// MaxRequests bounds the scrapes served at once; 0 means no bound.
	MaxRequests int
	// Landing is the landing page's text; its links are added here.
	Landing web.LandingConfig

	errorLog *log.Logger // promhttp's, from Logger; set by New
}

// New returns the exporter's HTTP handler.
func New(o Options) (http.Handler, error) {
	o.errorLog = slog.NewLogLogger(o.Logger.Handler(), slog.LevelError)
	mux := http.NewServeMux()
	limit := limiter(o.MaxRequests) // one bound for /metrics and /probe together
	mux.Handle(o.TelemetryPath, limit(&metricsHandler{o: o}))
	mux.Handle("/probe", limit(&probeHandler{o: o}))
	mux.HandleFunc("/-/reload", o.reload)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	if o.TelemetryPath != "/" {
		landing := o.Landing
		landing.Links = append([]web.LandingLinks{{Address: o.TelemetryPath, Text: "Metrics"}}, landing.Links...)
		if o.Targets != nil {
			landing.Form = web.LandingForm{
				Action: "/probe",
				Inputs: []web.LandingFormInput{{Label: "Cluster", Type: "text", Name: "target", Placeholder: "a cluster name from the config file"}},
			}
		}
		lp, err := web.NewLandingPage(landing)
		if err != nil {
			return nil, err
		}
		mux.Handle("/", lp)
	}
	return mux, nil
}

// metricsHandler serves the exporter's own metrics and, when flags name a
// cluster, that cluster's.
type metricsHandler struct{ o Options }

func (h *metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.o.serve(w, r, h.o.Default, h.o.Gatherer)
}

// probeHandler serves one cluster of the config file, by name. It never
// takes a URL: an unknown name gets 400 and no request leaves the exporter.
type probeHandler struct{ o Options }

// maxTargetEcho bounds how much of a bad target is repeated in an answer.
const maxTargetEcho = 64

func (h *probeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("target")
	var t *Target
	if h.o.Targets != nil {
		t = h.o.Targets.Get(name)
	}
	if t == nil {
		http.Error(w, probeError(name, h.o.Targets), http.StatusBadRequest)
		return
	}
	h.o.serve(w, r, t, nil)
}

// probeError says in one line why target names no cluster.
func probeError(name string, ts *Targets) string {
	shown := name
	if len(shown) > maxTargetEcho {
		shown = shown[:maxTargetEcho] + "..."
	}
	switch {
	case ts == nil:
		return "/probe serves the clusters of a config file, and none is loaded (--config.file)"
	case name == "":
		return "missing target: use /probe?target=NAME with a cluster name from the config file"
	case strings.Contains(name, "/") || strings.Contains(name, ":"):
		return fmt.Sprintf("target %q is not a cluster name: /probe reads only the clusters of the config file, by name", shown)
	default:
		return fmt.Sprintf("unknown target %q: not a cluster name in the config file", shown)
	}
}

// serve answers one scrape: the metrics of own (may be nil) and of the
// target t (may be nil), bounded by Prometheus's scrape timeout.
func (o Options) serve(w http.ResponseWriter, r *http.Request, t *Target, own prometheus.Gatherer) {
	ctx, cancel := ScrapeContext(r, o.TimeoutOffset)
	defer cancel()
	var gatherers prometheus.Gatherers
	if own != nil {
		gatherers = append(gatherers, own)
	}
	if t != nil {
		reg := prometheus.NewRegistry()
		t.register(reg, t.Exporter.Collector(ctx))
		gatherers = append(gatherers, reg)
	}
	// Gatherers checks every metric again as it merges; one gatherer
	// (always so for /probe) needs no merge.
	var g prometheus.Gatherer = gatherers
	if len(gatherers) == 1 {
		g = gatherers[0]
	}
	promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      o.errorLog,
		ErrorHandling: promhttp.ContinueOnError,
		// A scrape is a few KiB (60 KiB with 500 feature flags), once a
		// minute: gzip would save little and cost a quarter of the CPU.
		DisableCompression: true,
	}).ServeHTTP(w, r)
}

// reload serves POST /-/reload.
func (o Options) reload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST to reload the config file", http.StatusMethodNotAllowed)
		return
	}
	if o.Reload == nil {
		http.Error(w, "no config file to reload (--config.file)", http.StatusBadRequest)
		return
	}
	if err := o.Reload(); err != nil {
		http.Error(w, "config file not loaded, the previous config keeps serving: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "config file reloaded")
}

// ScrapeContext bounds a scrape by Prometheus's scrape timeout, from the
// X-Prometheus-Scrape-Timeout-Seconds header, less offset. A header too
// small for the offset is used whole; without a header, only the API
// client's own timeout applies.
func ScrapeContext(r *http.Request, offset time.Duration) (context.Context, context.CancelFunc) {
	v := r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds")
	secs, err := strconv.ParseFloat(v, 64)
	if v == "" || err != nil || secs <= 0 || secs > 3600 {
		return context.WithCancel(r.Context())
	}
	timeout := time.Duration(secs * float64(time.Second))
	if timeout > offset {
		timeout -= offset
	}
	return context.WithTimeout(r.Context(), timeout)
}

// limiter returns a wrapper that answers 503 when max requests through
// any handler it wraps are already being served; max 0 means no bound.
func limiter(max int) func(http.Handler) http.Handler {
	if max <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	sem := make(chan struct{}, max)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				next.ServeHTTP(w, r)
			default:
				http.Error(w, fmt.Sprintf("Too many concurrent requests (--web.max-requests=%d)", max), http.StatusServiceUnavailable)
			}
		})
	}
}
