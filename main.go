// Command datarobot_license_exporter exports the health of DataRobot
// cluster licenses to Prometheus.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
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

	"github.com/datarobot-license-exporter/datarobot_license_exporter/collector"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/config"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/server"
)

const name = "datarobot_license_exporter"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// settings are what the command line says.
type settings struct {
	web           *web.FlagConfig
	telemetryPath string
	maxRequests   int
	timeoutOffset time.Duration
	cluster       config.Flags
	log           promslog.Config
}

// newApp declares the flags, which fill s when parsed.
func newApp(s *settings) *kingpin.Application {
	app := kingpin.New(name, "Exports the health of DataRobot cluster licenses to Prometheus.")
	s.web = kingpinflag.AddFlags(app, ":9918")
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&s.telemetryPath)
	app.Flag("web.max-requests", "Maximum number of scrapes served at once; 0 means no limit.").Default("40").IntVar(&s.maxRequests)
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
	flag.AddFlags(app, &s.log)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')
	return app
}

// run starts the exporter and returns its exit code.
func run(args []string, stderr io.Writer) int {
	var s settings
	app := newApp(&s)
	app.ErrorWriter(stderr)
	app.UsageWriter(stderr)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: error: %s\n", name, err)
		return 2
	}

	logger := promslog.New(&s.log)
	cluster, err := s.cluster.Cluster()
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %s\n", name, err)
		return 1
	}
	client, err := cluster.NewClient(name + "/" + version.Version)
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %s\n", name, err)
		return 1
	}

	logger.Info("Starting "+name, "version", version.Info(), "build_context", version.BuildContext())
	logger.Info("Reading DataRobot", "endpoint", client.Endpoint())

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(name),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	handler, err := server.New(server.Options{
		Logger:        logger,
		Exporter:      collector.New(client, logger),
		Gatherer:      reg,
		TelemetryPath: s.telemetryPath,
		TimeoutOffset: s.timeoutOffset,
		MaxRequests:   s.maxRequests,
		Landing: web.LandingConfig{
			Name:        "DataRobot License Exporter",
			Description: "Prometheus exporter for DataRobot cluster license health",
			Version:     version.Info(),
		},
	})
	if err != nil {
		logger.Error("Cannot build the web handler", "err", err)
		return 1
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	if err := web.ListenAndServe(srv, s.web, logger); err != nil {
		logger.Error("Cannot serve", "err", err)
		return 1
	}
	return 0
}
