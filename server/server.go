// Package server serves the exporter's HTTP endpoints: the metrics, the
// landing page and the health checks.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/collector"
)

// Options configures the server.
type Options struct {
	Logger *slog.Logger
	// Exporter reads the cluster named by flags; nil when none is.
	Exporter *collector.Exporter
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
}

// New returns the exporter's HTTP handler.
func New(o Options) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle(o.TelemetryPath, limit(o.MaxRequests, &metricsHandler{o: o}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	if o.TelemetryPath != "/" {
		landing := o.Landing
		landing.Links = append([]web.LandingLinks{{Address: o.TelemetryPath, Text: "Metrics"}}, landing.Links...)
		lp, err := web.NewLandingPage(landing)
		if err != nil {
			return nil, err
		}
		mux.Handle("/", lp)
	}
	return mux, nil
}

// metricsHandler serves one scrape: the exporter's own metrics and, when a
// cluster is configured, DataRobot's.
type metricsHandler struct{ o Options }

func (h *metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := ScrapeContext(r, h.o.TimeoutOffset)
	defer cancel()
	gatherers := prometheus.Gatherers{h.o.Gatherer}
	if h.o.Exporter != nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(h.o.Exporter.Collector(ctx))
		gatherers = append(gatherers, reg)
	}
	promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(h.o.Logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
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

// limit answers 503 when max requests are already being served.
func limit(max int, next http.Handler) http.Handler {
	if max <= 0 {
		return next
	}
	sem := make(chan struct{}, max)
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
