package server_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/collector"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/server"
)

// BenchmarkScrape measures a whole scrape over HTTP: the request, both API
// calls to the fake, decoding, collecting and encoding, as Prometheus asks
// (gzip), with 20 and 500 feature flags.
func BenchmarkScrape(b *testing.B) {
	for _, flags := range []int{20, 500} {
		b.Run(fmt.Sprintf("flags=%d", flags), func(b *testing.B) {
			api := httptest.NewServer(fakeapi.New(token, fakeapi.ExampleLicense(time.Now().Add(time.Hour), flags)))
			defer api.Close()
			client, err := datarobot.NewClient(datarobot.Options{Endpoint: api.URL, Token: datarobot.StaticToken(token)})
			if err != nil {
				b.Fatal(err)
			}
			logger := slog.New(slog.DiscardHandler)
			h, err := server.New(server.Options{Logger: logger, Gatherer: prometheus.NewRegistry(), TelemetryPath: "/metrics",
				Default: &server.Target{Name: "default", Exporter: collector.New(client, logger)}})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			b.ReportAllocs()
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
