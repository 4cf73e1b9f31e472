// Command datarobot_license_exporter exports the health of DataRobot
// cluster licenses to Prometheus.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/config"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/server"
)

const name = "datarobot_license_exporter"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// settings are what the command line says.
type settings struct {
	web               *web.FlagConfig
	telemetryPath     string
	maxRequests       int
	disableOwnMetrics bool
	timeoutOffset     time.Duration
	configFile        string
	configCheck       bool
	gomaxprocs        int
	cluster           config.Flags
	log               promslog.Config
	collectors        server.Collectors

	// check-license
	checkCmd    *kingpin.CmdClause
	licenseFile string
	output      string
	target      string
}

// newApp declares the flags, which fill s when parsed.
func newApp(s *settings) *kingpin.Application {
	app := kingpin.New(name, "Exports the health of DataRobot cluster licenses to Prometheus.")
	s.web = kingpinflag.AddFlags(app, ":9918")
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&s.telemetryPath)
	app.Flag("web.max-requests", "Maximum number of scrapes served at once; 0 means no limit.").Default("40").IntVar(&s.maxRequests)
	app.Flag("web.disable-exporter-metrics", "Leave the exporter's own Go and process metrics (go_*, process_*) out of /metrics.").
		BoolVar(&s.disableOwnMetrics)
	app.Flag("config.file", "YAML file of DataRobot clusters, served on /probe?target=NAME.").StringVar(&s.configFile)
	app.Flag("config.check", "Check the config file, print it with tokens hidden, and exit.").BoolVar(&s.configCheck)
	s.cluster.EnvToken = os.Getenv("DATAROBOT_API_TOKEN")
	app.Flag("datarobot.url", "DataRobot API endpoint, with or without /api/v2, such as https://datarobot.example.com/api/v2.").
		Envar("DATAROBOT_ENDPOINT").StringVar(&s.cluster.URL)
	app.Flag("datarobot.token-file", "File holding the DataRobot API token; re-read when it changes. Without it, DATAROBOT_API_TOKEN is used.").
		StringVar(&s.cluster.TokenFile)
	app.Flag("datarobot.timeout", "Longest time one DataRobot API call may take.").
		Default(config.DefaultTimeout.String()).DurationVar(&s.cluster.Timeout)
	app.Flag("datarobot.timeout-offset", "Taken from Prometheus's scrape timeout to bound the API calls of a scrape.").
		Default("500ms").DurationVar(&s.timeoutOffset)
	app.Flag("datarobot.ca-file", "CA certificate file to verify the DataRobot server with.").StringVar(&s.cluster.CAFile)
	app.Flag("datarobot.insecure-skip-verify", "Do not verify the DataRobot server's TLS certificate.").BoolVar(&s.cluster.InsecureSkipVerify)
	app.Flag("runtime.gomaxprocs", "The target number of CPUs Go will run on (GOMAXPROCS).").
		Envar("GOMAXPROCS").Default("1").IntVar(&s.gomaxprocs)
	app.Flag("collector.deployments", "Count the deployments the token can see (GET deployments), against the license's limit.").
		Default("false").BoolVar(&s.collectors.Deployments)
	flag.AddFlags(app, &s.log)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')

	app.Command("serve", "Run the exporter (the default when no command is given).").Default()
	s.checkCmd = app.Command("check-license", "Compare a new license key with the installed license, without installing it.")
	s.checkCmd.Flag("license-file", "File holding the new license key; - reads it from standard input.").Required().StringVar(&s.licenseFile)
	s.checkCmd.Flag("output", "text or json.").Default("text").EnumVar(&s.output, "text", "json")
	s.checkCmd.Flag("target", "The cluster of --config.file to check against; without it, the cluster of the --datarobot.* flags.").StringVar(&s.target)
	return app
}

// ownRegistry holds the exporter's metrics about itself, served on
// /metrics: its build info and, unless left out, its Go runtime and process
// metrics (the process collector reads /proc and is most of a scrape's CPU
// with few feature flags).
func ownRegistry(disableGoProcess bool) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(versioncollector.NewCollector(name))
	if !disableGoProcess {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return reg
}

// run runs the exporter and returns its exit code.
func run(args []string, stdout, stderr io.Writer) int {
	var s settings
	app := newApp(&s)
	app.ErrorWriter(stderr)
	app.UsageWriter(stderr)
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s: error: %s\n", name, err)
		return 1
	}
	cmd, err := app.Parse(args)
	if err != nil {
		fail(err)
		return 2
	}
	logger := promslog.New(&s.log)
	userAgent := name + "/" + version.Version
	if cmd == s.checkCmd.FullCommand() {
		return checkLicense(&s, userAgent, os.Stdin, stdout, stderr)
	}

	var cfg *config.Config
	if s.configFile != "" {
		var err error
		if cfg, err = config.Load(s.configFile); err != nil {
			return fail(err)
		}
	}
	if s.configCheck {
		if cfg == nil {
			return fail(errors.New("--config.check needs --config.file"))
		}
		fmt.Fprintf(stdout, "%s: %d clusters, OK\n%s", s.configFile, len(cfg.Clusters), cfg)
		return 0
	}
	cluster, err := flagCluster(s.cluster, cfg != nil, logger)
	if err != nil {
		return fail(err)
	}

	reg := ownRegistry(s.disableOwnMetrics)
	opts := server.Options{
		Logger:        logger,
		Gatherer:      reg,
		TelemetryPath: s.telemetryPath,
		TimeoutOffset: s.timeoutOffset,
		MaxRequests:   s.maxRequests,
		Landing: web.LandingConfig{
			Name:        "DataRobot License Exporter",
			Description: "Prometheus exporter for DataRobot cluster license health",
			Version:     version.Info(),
		},
	}
	logger.Info("Starting "+name, "version", version.Info(), "build_context", version.BuildContext())
	if s.gomaxprocs > 0 {
		runtime.GOMAXPROCS(s.gomaxprocs)
	}
	logger.Debug("Go runtime", "GOMAXPROCS", runtime.GOMAXPROCS(0))
	if cluster != nil {
		if opts.Default, err = server.NewTarget(cluster, userAgent, s.collectors, logger); err != nil {
			return fail(err)
		}
		logger.Info("Serving one cluster on "+s.telemetryPath, "endpoint", cluster.URL)
	}
	if cfg != nil {
		opts.Targets = &server.Targets{}
		reloader := server.NewReloader(s.configFile, opts.Targets, userAgent, s.collectors, logger, reg)
		if err := reloader.Reload(); err != nil {
			return fail(err)
		}
		opts.Reload = reloader.Reload
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for range hup {
				_ = reloader.Reload() // logged by Reload
			}
		}()
	}
	handler, err := server.New(opts)
	if err != nil {
		return fail(err)
	}
	return serve(handler, s.web, logger)
}

// flagCluster returns the cluster that the flags name, with what they
// leave empty taken from DataRobot's client settings when no config file
// is given; or nil when only a config file names clusters.
func flagCluster(f config.Flags, haveConfigFile bool, logger *slog.Logger) (*config.Cluster, error) {
	if haveConfigFile {
		if f.URL == "" && f.TokenFile == "" {
			return nil, nil
		}
		return f.Cluster()
	}
	f, path, err := f.FromDataRobotSettings(os.Getenv)
	if err != nil {
		return nil, err
	}
	if path != "" {
		logger.Info("Using DataRobot's client settings", "file", path)
	}
	return f.Cluster()
}

// serve serves handler until SIGTERM or SIGINT, then shuts down cleanly.
func serve(handler http.Handler, flags *web.FlagConfig, logger *slog.Logger) int {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- web.ListenAndServe(srv, flags, logger) }()
	select {
	case err := <-done:
		logger.Error("Cannot serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("Shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("Shutdown did not finish", "err", err)
		return 1
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error("Cannot serve", "err", err)
		return 1
	}
	return 0
}
