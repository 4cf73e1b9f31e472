package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

// staticAPI answers from memory, so that the benchmark measures the
// collector alone: no HTTP, no JSON decoding.
type staticAPI struct {
	lic *datarobot.ClusterLicense
	ver *datarobot.Version
}

func (s staticAPI) ClusterLicense(context.Context) (*datarobot.ClusterLicense, error) {
	return s.lic, nil
}
func (s staticAPI) Version(context.Context) (*datarobot.Version, error) { return s.ver, nil }

// BenchmarkCollect measures one scrape of the collector, from the decoded
// API answers to the text exposition format, with 20 and 500 feature flags.
func BenchmarkCollect(b *testing.B) {
	for _, flags := range []int{20, 500} {
		b.Run(fmt.Sprintf("flags=%d", flags), func(b *testing.B) {
			lic, err := datarobot.DecodeClusterLicense(fakeapi.ExampleLicense(time.Now().Add(time.Hour), flags).JSON())
			if err != nil {
				b.Fatal(err)
			}
			e := New(staticAPI{lic: lic, ver: &datarobot.Version{Major: 2, Minor: 36, VersionString: "2.36.0"}}, slog.New(slog.DiscardHandler))
			b.ReportAllocs()
			for b.Loop() {
				reg := prometheus.NewRegistry()
				reg.MustRegister(e.Collector(context.Background()))
				mfs, err := reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
				for _, mf := range mfs {
					if err := enc.Encode(mf); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func (s staticAPI) Deployments(context.Context) (int64, error) { return 0, nil }
