package server

import (
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/collector"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/config"
)

// Target is one DataRobot cluster the exporter reads.
type Target struct {
	Name     string
	Exporter *collector.Exporter
	Labels   prometheus.Labels // added to each of its DataRobot metrics
	cluster  config.Cluster    // as configured, to tell a changed cluster on reload
}

// Collectors are the optional collectors, on for every cluster.
type Collectors struct {
	Deployments bool // --collector.deployments
}

// NewTarget builds the API client and the collector of a cluster.
func NewTarget(c *config.Cluster, userAgent string, cs Collectors, logger *slog.Logger) (*Target, error) {
	client, err := c.NewClient(userAgent, logger.With("cluster", c.Name))
	if err != nil {
		return nil, err
	}
	opts := []collector.Option{collector.WithMinInterval(time.Duration(c.MinInterval))}
	if cs.Deployments {
		opts = append(opts, collector.WithDeployments())
	}
	return &Target{
		Name:     c.Name,
		Exporter: collector.New(client, logger.With("cluster", c.Name), opts...),
		Labels:   prometheus.Labels(c.Labels),
		cluster:  *c,
	}, nil
}

// register adds the target's collector for one scrape to reg.
func (t *Target) register(reg prometheus.Registerer, s prometheus.Collector) {
	if len(t.Labels) > 0 {
		reg = prometheus.WrapRegistererWith(t.Labels, reg)
	}
	reg.MustRegister(s)
}

// Targets are the clusters of the config file, by name. Safe for
// concurrent use; Replace swaps them all at once.
type Targets struct {
	mu     sync.RWMutex
	byName map[string]*Target
}

// Get returns the target named name, or nil.
func (ts *Targets) Get(name string) *Target {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return ts.byName[name]
}

// Names returns the targets' names, sorted.
func (ts *Targets) Names() []string {
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	return slices.Sorted(maps.Keys(ts.byName))
}

// build makes the targets of cfg, keeping the existing target (and so its
// error counters and its call in flight) of every cluster whose settings
// did not change. It changes nothing; Replace installs the result.
func (ts *Targets) build(cfg *config.Config, newTarget func(*config.Cluster) (*Target, error)) (map[string]*Target, error) {
	ts.mu.RLock()
	old := ts.byName
	ts.mu.RUnlock()
	next := make(map[string]*Target, len(cfg.Clusters))
	for _, c := range cfg.Clusters {
		if t, ok := old[c.Name]; ok && reflect.DeepEqual(t.cluster, *c) {
			next[c.Name] = t
			continue
		}
		t, err := newTarget(c)
		if err != nil {
			return nil, err
		}
		next[c.Name] = t
	}
	return next, nil
}

// replace installs targets built by build.
func (ts *Targets) replace(next map[string]*Target) {
	ts.mu.Lock()
	ts.byName = next
	ts.mu.Unlock()
}
