package server

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/config"
)

// Reloader loads the config file into Targets: at start, on SIGHUP and on
// POST /-/reload, all through Reload. A config that fails to load changes
// nothing: the old one keeps serving.
type Reloader struct {
	path      string
	targets   *Targets
	userAgent string
	cs        Collectors
	logger    *slog.Logger
	now       func() time.Time

	mu          sync.Mutex
	success     prometheus.Gauge
	successTime prometheus.Gauge
}

// NewReloader returns a Reloader of the config file at path into targets,
// and registers its metrics with reg.
func NewReloader(path string, targets *Targets, userAgent string, cs Collectors, logger *slog.Logger, reg prometheus.Registerer) *Reloader {
	r := &Reloader{
		path:      path,
		targets:   targets,
		userAgent: userAgent,
		cs:        cs,
		logger:    logger,
		now:       time.Now,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "datarobot_license_exporter", Subsystem: "config", Name: "last_reload_successful",
			Help: "1 when the last load of the config file succeeded, else 0.",
		}),
		successTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "datarobot_license_exporter", Subsystem: "config", Name: "last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful load of the config file.",
		}),
	}
	reg.MustRegister(r.success, r.successTime)
	return r
}

// Reload loads the config file and, if it is good, serves its clusters.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.load()
	if err != nil {
		r.success.Set(0)
		r.logger.Error("Config file not loaded; the previous config keeps serving", "file", r.path, "err", err)
		return err
	}
	r.success.Set(1)
	r.successTime.Set(float64(r.now().UnixNano()) / 1e9)
	r.logger.Info("Config file loaded", "file", r.path, "clusters", fmt.Sprint(r.targets.Names()))
	return nil
}

func (r *Reloader) load() error {
	cfg, err := config.Load(r.path)
	if err != nil {
		return err
	}
	next, err := r.targets.build(cfg, func(c *config.Cluster) (*Target, error) {
		t, err := NewTarget(c, r.userAgent, r.cs, r.logger)
		if err != nil {
			return nil, fmt.Errorf("%s: cluster %q: %w", r.path, c.Name, err)
		}
		return t, nil
	})
	if err != nil {
		return err
	}
	r.targets.replace(next)
	return nil
}
