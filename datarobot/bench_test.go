package datarobot_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

// BenchmarkDecodeClusterLicense measures decoding an answer of
// clusterLicense with 20 and 500 feature flags.
func BenchmarkDecodeClusterLicense(b *testing.B) {
	for _, flags := range []int{20, 500} {
		b.Run(fmt.Sprintf("flags=%d", flags), func(b *testing.B) {
			body := fakeapi.ExampleLicense(time.Now(), flags).JSON()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := datarobot.DecodeClusterLicense(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
