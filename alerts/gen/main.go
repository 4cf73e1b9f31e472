// Command gen writes prometheusrule.yaml from the rule file. Run it with
// `make generate` (or `go generate ./alerts`).
package main

import (
	"log"
	"os"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/alerts"
)

func main() {
	out, err := alerts.PrometheusRule(alerts.Rules)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(alerts.PrometheusRuleFile, out, 0o644); err != nil {
		log.Fatal(err)
	}
}
