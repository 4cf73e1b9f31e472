package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
)

// API is what the collector needs of DataRobot; *datarobot.Client has it.
type API interface {
	ClusterLicense(ctx context.Context) (*datarobot.ClusterLicense, error)
	Version(ctx context.Context) (*datarobot.Version, error)
	Deployments(ctx context.Context) (int64, error)
}

// Exporter holds what lives across scrapes of one DataRobot cluster: the
// error counters, the last success times, and the calls in flight, which
// concurrent scrapes share.
type Exporter struct {
	api    API
	logger *slog.Logger
	now    func() time.Time

	flight singleflight.Group

	minInterval time.Duration
	endpoints   []string // the calls of each scrape

	mu          sync.Mutex
	errors      map[string]map[datarobot.Reason]uint64
	lastSuccess map[string]time.Time
	last        map[string]finished  // the last call of each endpoint
	retryUntil  map[string]time.Time // when DataRobot allows the next call
	built       struct {             // metrics kept until what they show changes
		license  *datarobot.ClusterLicense // the last license seen, and
		metrics  []prometheus.Metric       // its metrics
		counters []prometheus.Metric       // the error counters; nil when a count moved
	}
}

// finished is a call that has ended.
type finished struct {
	outcome outcome
	end     time.Time
}

// MaxRetryAfter caps how long the exporter honours DataRobot's Retry-After,
// so that a wild value cannot blind it for long.
const MaxRetryAfter = time.Hour

// Option changes an Exporter.
type Option func(*Exporter)

// WithMinInterval makes scrapes that come sooner than d after the last
// call of an endpoint reuse that call's answer.
func WithMinInterval(d time.Duration) Option { return func(e *Exporter) { e.minInterval = d } }

// WithDeployments adds the deployments call to every scrape.
func WithDeployments() Option {
	return func(e *Exporter) { e.endpoints = append(e.endpoints, EndpointDeployments) }
}

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(e *Exporter) { e.now = now } }

// New returns an Exporter that reads api.
func New(api API, logger *slog.Logger, opts ...Option) *Exporter {
	e := &Exporter{
		api:         api,
		logger:      logger,
		now:         time.Now,
		errors:      map[string]map[datarobot.Reason]uint64{},
		lastSuccess: map[string]time.Time{},
		last:        map[string]finished{},
		retryUntil:  map[string]time.Time{},
		endpoints:   slices.Clone(Endpoints),
	}
	for _, o := range opts {
		o(e)
	}
	for _, ep := range e.endpoints {
		e.errors[ep] = map[datarobot.Reason]uint64{}
	}
	return e
}

// Collector returns a prometheus.Collector for one scrape: it calls the API
// when collected, bounded by ctx.
func (e *Exporter) Collector(ctx context.Context) prometheus.Collector {
	return &scrape{e: e, ctx: ctx}
}

// deadlineGrace is how long a scrape past its deadline still waits for the
// call it joined. The default --datarobot.timeout-offset leaves room for it.
const deadlineGrace = 100 * time.Millisecond

// outcome is the result of one API call, shared by the scrapes that wait
// for it.
type outcome struct {
	value    any // *datarobot.ClusterLicense, *datarobot.Version, or int64 deployments
	err      error
	duration time.Duration
}

// call makes the API call for endpoint, or joins the one in flight, or
// reuses the last answer within min_interval, or makes no call while
// DataRobot has asked to wait (Retry-After).
func (e *Exporter) call(ctx context.Context, endpoint string) outcome {
	if o, ok := e.answerWithoutCall(endpoint); ok {
		return o
	}
	ch := e.flight.DoChan(endpoint, func() (any, error) {
		// The call outlives a scrape that gives up early, for the others
		// waiting on it, but keeps the first scrape's deadline.
		callCtx := context.WithoutCancel(ctx)
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			callCtx, cancel = context.WithDeadline(callCtx, dl)
			defer cancel()
		}
		start := e.now()
		o := e.fetch(callCtx, endpoint)
		end := e.now()
		o.duration = end.Sub(start)
		e.record(endpoint, o, end)
		return o, nil
	})
	select {
	case r := <-ch:
		return r.Val.(outcome)
	case <-ctx.Done():
	}
	// A call made with this scrape's deadline ends at about the same time:
	// give it a moment, so that its own result, counted and logged, is the
	// one reported.
	grace := time.NewTimer(deadlineGrace)
	defer grace.Stop()
	select {
	case r := <-ch:
		return r.Val.(outcome)
	case <-grace.C:
		return outcome{err: &datarobot.Error{
			Reason:   datarobot.ReasonTimeout,
			Endpoint: endpoint,
			Message:  "scrape deadline passed while waiting for the call in flight",
		}}
	}
}

// fetch makes one API call. A panic in it, which would be a bug, becomes a
// bad_response for this call instead of the end of the exporter; its value
// is not shown, as it could hold anything, the token included.
func (e *Exporter) fetch(ctx context.Context, endpoint string) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			e.logger.Error("Bug: reading the DataRobot API panicked; please report it", "endpoint", endpoint,
				"panic_type", fmt.Sprintf("%T", r), "stack", string(debug.Stack()))
			o = outcome{err: &datarobot.Error{Reason: datarobot.ReasonBadResponse, Endpoint: endpoint,
				Message: "internal error while reading the answer (a bug; the log has the stack)"}}
		}
	}()
	switch endpoint {
	case EndpointClusterLicense:
		o.value, o.err = e.api.ClusterLicense(ctx)
	case EndpointVersion:
		o.value, o.err = e.api.Version(ctx)
	case EndpointDeployments:
		o.value, o.err = e.api.Deployments(ctx)
	}
	return o
}

// answerWithoutCall returns the answer for endpoint when no call is to be
// made: DataRobot asked to wait, or the last call is recent enough.
func (e *Exporter) answerWithoutCall(endpoint string) (outcome, bool) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if until := e.retryUntil[endpoint]; now.Before(until) {
		e.errors[endpoint][datarobot.ReasonRateLimited]++
		e.built.counters = nil
		e.logger.Debug("DataRobot API not called: it asked to wait (Retry-After)", "endpoint", endpoint, "until", until)
		return outcome{err: &datarobot.Error{
			Reason:   datarobot.ReasonRateLimited,
			Endpoint: endpoint,
			Message:  "not called: DataRobot asked to wait until " + until.UTC().Format(time.RFC3339) + " (Retry-After)",
		}}, true
	}
	if last, ok := e.last[endpoint]; ok && e.minInterval > 0 && now.Sub(last.end) < e.minInterval {
		return last.outcome, true
	}
	return outcome{}, false
}

// record counts a finished call and logs a failure.
func (e *Exporter) record(endpoint string, o outcome, end time.Time) {
	e.mu.Lock()
	e.last[endpoint] = finished{outcome: o, end: end}
	if o.err == nil {
		e.lastSuccess[endpoint] = end
	} else {
		e.errors[endpoint][datarobot.ReasonOf(o.err)]++
		e.built.counters = nil
		var de *datarobot.Error
		if errors.As(o.err, &de) && de.RetryAfter > 0 {
			e.retryUntil[endpoint] = end.Add(min(de.RetryAfter, MaxRetryAfter))
		}
	}
	e.mu.Unlock()

	if o.err != nil {
		e.logger.Warn("DataRobot API call failed", "endpoint", endpoint,
			"reason", string(datarobot.ReasonOf(o.err)), "duration", o.duration, "err", o.err)
		return
	}
	e.logger.Debug("DataRobot API call succeeded", "endpoint", endpoint, "duration", o.duration)
}

// scrape is the Collector of one scrape.
type scrape struct {
	e   *Exporter
	ctx context.Context
}

func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	e := s.e
	// All calls at once: each in its own goroutine but the last, made here.
	outcomes := make([]outcome, len(e.endpoints))
	var wg sync.WaitGroup
	last := len(e.endpoints) - 1
	for i, ep := range e.endpoints[:last] {
		wg.Go(func() { outcomes[i] = e.call(s.ctx, ep) })
	}
	outcomes[last] = e.call(s.ctx, e.endpoints[last])
	wg.Wait()
	results := make(map[string]outcome, len(e.endpoints))
	for i, ep := range e.endpoints {
		results[ep] = outcomes[i]
	}

	up := 1.0
	for _, ep := range e.endpoints {
		o := results[ep]
		success := 1.0
		if o.err != nil {
			success, up = 0, 0
		}
		ch <- prometheus.MustNewConstMetric(scrapeSuccessDesc, prometheus.GaugeValue, success, ep)
		ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, o.duration.Seconds(), ep)
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
	e.collectCounters(ch)

	if l, ok := results[EndpointClusterLicense].value.(*datarobot.ClusterLicense); ok && l != nil {
		e.collectLicense(ch, l, e.now())
	}
	if v, ok := results[EndpointVersion].value.(*datarobot.Version); ok && v != nil {
		ch <- prometheus.MustNewConstMetric(versionInfoDesc, prometheus.GaugeValue, 1,
			v.VersionString, strconv.FormatInt(v.Major, 10), strconv.FormatInt(v.Minor, 10))
	}
	if n, ok := results[EndpointDeployments].value.(int64); ok && results[EndpointDeployments].err == nil {
		ch <- prometheus.MustNewConstMetric(deploymentsDesc, prometheus.GaugeValue, float64(n))
	}
}

// collectCounters emits the error counters, every reason from 0, and the
// last success times of the endpoints that have had one.
func (e *Exporter) collectCounters(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.built.counters == nil {
		for _, ep := range e.endpoints {
			for _, r := range datarobot.Reasons {
				e.built.counters = append(e.built.counters, prometheus.MustNewConstMetric(scrapeErrorsDesc,
					prometheus.CounterValue, float64(e.errors[ep][r]), ep, string(r)))
			}
		}
	}
	for _, m := range e.built.counters {
		ch <- m
	}
	for _, ep := range e.endpoints {
		if t, ok := e.lastSuccess[ep]; ok {
			ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, unixSeconds(t), ep)
		}
	}
}

// licenseMetrics builds the license metrics whose values are known, but
// for the days until expiry, which moves with the clock.
func licenseMetrics(l *datarobot.ClusterLicense) []prometheus.Metric {
	info := &l.LicenseInfo
	out := make([]prometheus.Metric, 0, 12+len(info.FeatureFlags))
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	optional := func(d *prometheus.Desc, v *int64) {
		if v != nil {
			gauge(d, float64(*v))
		}
	}

	// The client guarantees the expiry and the expired flag.
	gauge(expiryDesc, unixSeconds(info.ExpirationTimestamp.Time))
	gauge(expiredDesc, boolValue(*info.Expired))

	optional(concurrentWorkersDesc, info.ConcurrentWorkersCount)
	optional(maxActiveUsersDesc, info.MaximumActiveUsers)
	optional(maxDeploymentsDesc, info.MaxDeploymentLimit)
	optional(prepaidDeploymentsDesc, info.PrepaidDeploymentLimit)
	optional(genAISeatsDesc, info.GenAISeatLicensesLimit)
	optional(agenticSeatsDesc, info.AgenticPredictiveGovernanceSeatLicensesLimit)
	optional(cpuUsageLimitDesc, info.CPUUsageLimit)

	for key, f := range info.FeatureFlags {
		gauge(featureFlagDesc, boolValue(f.Value), key, f.UILabel)
	}

	if u := l.UploadInfo; u != nil {
		if u.UploadTimestamp.Valid {
			gauge(uploadTimestampDesc, unixSeconds(u.UploadTimestamp.Time))
		}
		gauge(uploadInfoDesc, 1, u.UploaderUsername, u.UploaderUserID)
	}
	return out
}

// collectLicense emits the license metrics. Those of an unchanged license
// (the client returns the same result for the same answer) are built once.
func (e *Exporter) collectLicense(ch chan<- prometheus.Metric, l *datarobot.ClusterLicense, now time.Time) {
	e.mu.Lock()
	if e.built.license != l {
		e.built.license, e.built.metrics = l, licenseMetrics(l)
	}
	metrics := e.built.metrics
	e.mu.Unlock()
	for _, m := range metrics {
		ch <- m
	}
	days := l.LicenseInfo.ExpirationTimestamp.Time.Sub(now).Seconds() / 86400
	ch <- prometheus.MustNewConstMetric(daysUntilExpiryDesc, prometheus.GaugeValue, days)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
