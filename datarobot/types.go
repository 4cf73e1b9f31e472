// Package datarobot is a small client for the parts of DataRobot's REST API
// that describe the cluster license: GET clusterLicense and GET version.
//
// It imports nothing from Prometheus, so it can serve other tools too.
package datarobot

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ClusterLicense is the answer of GET /api/v2/clusterLicense/
// (ClusterLicenseRetrieveResponse in DataRobot's API reference).
type ClusterLicense struct {
	LicenseInfo LicenseInfo `json:"licenseInfo"`
	UploadInfo  *UploadInfo `json:"uploadInfo"`
}

// LicenseInfo describes the deployed license
// (ClusterLicenseRetrieveResponseLicense).
//
// Numeric fields are pointers: nil means the server did not send the field,
// which is not the same as 0 (unlimited).
type LicenseInfo struct {
	ConcurrentWorkersCount *int64                 `json:"concurrentWorkersCount"`
	ExpirationTimestamp    Timestamp              `json:"expirationTimestamp"`
	Expired                *bool                  `json:"expired"`
	FeatureFlags           map[string]FeatureFlag `json:"featureFlags"`
	MaxDeploymentLimit     *int64                 `json:"maxDeploymentLimit"`
	MaximumActiveUsers     *int64                 `json:"maximumActiveUsers"`
	PrepaidDeploymentLimit *int64                 `json:"prepaidDeploymentLimit"`

	// Sent by newer servers only: 0 means unlimited, -1 none available.
	GenAISeatLicensesLimit                       *int64 `json:"genAiSeatLicensesLimit"`                       // API v2.36
	AgenticPredictiveGovernanceSeatLicensesLimit *int64 `json:"agenticPredictiveGovernanceSeatLicensesLimit"` // API v2.38
	CPUUsageLimit                                *int64 `json:"cpuUsageLimit"`                                // API v2.39
}

// FeatureFlag is one enforced feature flag (FeatureFlagObject).
type FeatureFlag struct {
	UILabel   string `json:"uiLabel"`
	UITooltip string `json:"uiTooltip"`
	Value     bool   `json:"value"`
}

// UploadInfo says who uploaded the current license, and when
// (ClusterLicenseRetrieveResponseUploadInfo).
type UploadInfo struct {
	UploadTimestamp  Timestamp `json:"uploadTimestamp"`
	UploaderUserID   string    `json:"uploaderUserId"`
	UploaderUsername string    `json:"uploaderUsername"`
}

// Version is the answer of GET /api/v2/version/ (VersionRetrieveResponse).
type Version struct {
	Major         int64  `json:"major"`
	Minor         int64  `json:"minor"`
	VersionString string `json:"versionString"`
}

// Timestamp is a time sent by DataRobot as a string. Raw keeps what the
// server sent; Time is set, and Valid true, only when Raw parses.
type Timestamp struct {
	Raw   string
	Time  time.Time
	Valid bool
}

// UnmarshalJSON accepts a string (parsed with ParseTimestamp) or null.
// A string that does not parse is kept in Raw with Valid false, so that one
// odd field does not throw away the rest of the answer; a value of another
// JSON type is an error.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	*t = Timestamp{}
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp must be a string, got %.40q", b)
	}
	t.Raw = s
	if tm, err := ParseTimestamp(s); err == nil {
		t.Time, t.Valid = tm, true
	}
	return nil
}

// timestampLayouts are tried in order. The first is RFC 3339 with any
// fraction, which covers the reference's 2020-12-21T23:59:59.000000Z. The
// others take the zone-less form that Python's isoformat() writes (read as
// UTC, as the reference says all times are) and offsets without a colon.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
}

// ParseTimestamp parses the times DataRobot sends: RFC 3339 in any of its
// variants (fraction or none, Z or an offset, upper or lower case T and Z, a
// space instead of T), and the same without a zone, read as UTC.
// The result is in UTC.
func ParseTimestamp(s string) (time.Time, error) {
	v := strings.TrimSpace(s)
	if len(v) > 10 && (v[10] == ' ' || v[10] == 't') {
		v = v[:10] + "T" + v[11:]
	}
	if strings.HasSuffix(v, "z") {
		v = v[:len(v)-1] + "Z"
	}
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse timestamp %q: want RFC 3339, such as 2020-12-21T23:59:59.000000Z", truncate(s, 64))
}
