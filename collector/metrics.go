// Package collector turns DataRobot's license API into Prometheus metrics.
package collector

import "github.com/prometheus/client_golang/prometheus"

const namespace = "datarobot"

// The endpoint label's values: one for each API call.
const (
	EndpointClusterLicense = "cluster_license"
	EndpointVersion        = "version"
	EndpointDeployments    = "deployments" // with WithDeployments only
)

// Endpoints lists the API calls made on every scrape; WithDeployments adds
// EndpointDeployments.
var Endpoints = []string{EndpointClusterLicense, EndpointVersion}

func newDesc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, labels, nil)
}

// Scrape health.
var (
	upDesc = newDesc("", "up",
		"1 when every DataRobot API call of this scrape succeeded, else 0. With a cluster's min_interval, a scrape sooner than that after the last call reuses its answer.")
	scrapeSuccessDesc = newDesc("scrape", "success",
		"1 when this scrape's call to the DataRobot API endpoint succeeded, else 0. With a cluster's min_interval, a scrape sooner than that after the last call reuses its answer.", "endpoint")
	scrapeDurationDesc = newDesc("scrape", "duration_seconds",
		"How long this scrape's call to the DataRobot API endpoint took.", "endpoint")
	scrapeErrorsDesc = newDesc("scrape", "errors_total",
		"Failed calls to the DataRobot API endpoint since the exporter started, by reason; a call not made because DataRobot asked to wait (Retry-After) counts as rate_limited.", "endpoint", "reason")
	lastSuccessDesc = newDesc("", "last_success_timestamp_seconds",
		"Unix time of the last successful call to the DataRobot API endpoint.", "endpoint")
)

// The license, from GET clusterLicense.
var (
	expiryDesc = newDesc("license", "expiry_timestamp_seconds",
		"Unix time at which the DataRobot cluster license expires (expirationTimestamp).")
	daysUntilExpiryDesc = newDesc("license", "days_until_expiry",
		"Days until the DataRobot cluster license expires, at scrape time; fractional, negative once past.")
	expiredDesc = newDesc("license", "expired",
		"1 when DataRobot says the cluster license has expired, else 0.")
	concurrentWorkersDesc = newDesc("license", "concurrent_workers",
		"Concurrent workers (simultaneously running jobs) the license allows (concurrentWorkersCount).")
	maxActiveUsersDesc = newDesc("license", "max_active_users",
		"Active users the license allows; 0 means unlimited (maximumActiveUsers).")
	maxDeploymentsDesc = newDesc("license", "max_deployments",
		"Deployments the license allows; 0 means unlimited (maxDeploymentLimit).")
	prepaidDeploymentsDesc = newDesc("license", "prepaid_deployments",
		"Prepaid deployments in the license; 0 means unlimited (prepaidDeploymentLimit).")
	genAISeatsDesc = newDesc("license", "genai_seats",
		"GenAI seat licenses; 0 means unlimited, -1 none available (genAiSeatLicensesLimit, DataRobot API 2.36+).")
	agenticSeatsDesc = newDesc("license", "agentic_governance_seats",
		"Agentic and predictive governance seat licenses; 0 means unlimited, -1 none available (agenticPredictiveGovernanceSeatLicensesLimit, API 2.38+).")
	cpuUsageLimitDesc = newDesc("license", "cpu_usage_limit",
		"CPU usage limit of the license; 0 means unlimited, -1 none available (cpuUsageLimit, DataRobot API 2.39+).")
	featureFlagDesc = newDesc("license", "feature_flag",
		"1 when the license enables the feature flag, 0 when it disables it.", "flag", "ui_label")
	uploadTimestampDesc = newDesc("license", "upload_timestamp_seconds",
		"Unix time at which the current license was uploaded (uploadTimestamp).")
	uploadInfoDesc = newDesc("license", "upload_info",
		"Who uploaded the current license; always 1.", "uploader_username", "uploader_user_id")
)

// The version, from GET version.
var versionInfoDesc = newDesc("version", "info",
	"DataRobot's version; always 1.", "version", "major", "minor")

// The deployments, from GET deployments (--collector.deployments).
var deploymentsDesc = newDesc("", "deployments",
	"Deployments the exporter's token can see (GET deployments); with an admin token, all of them.")

var allDescs = []*prometheus.Desc{
	upDesc, scrapeSuccessDesc, scrapeDurationDesc, scrapeErrorsDesc, lastSuccessDesc,
	expiryDesc, daysUntilExpiryDesc, expiredDesc, concurrentWorkersDesc, maxActiveUsersDesc,
	maxDeploymentsDesc, prepaidDeploymentsDesc, genAISeatsDesc, agenticSeatsDesc, cpuUsageLimitDesc,
	featureFlagDesc, uploadTimestampDesc, uploadInfoDesc, versionInfoDesc, deploymentsDesc,
}
