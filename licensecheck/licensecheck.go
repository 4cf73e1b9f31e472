// Package licensecheck compares a new DataRobot license key with the
// installed license before anyone installs it: what it does to the expiry,
// to each limit and to each feature flag.
package licensecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
)

// Exit codes of check-license.
const (
	ExitOK       = 0 // the key is valid and loses nothing
	ExitInvalid  = 1 // the key is invalid or expired, or a call failed
	ExitLosesSth = 3 // the key is valid but lowers a limit, drops a feature or expires sooner
)

// Change says how one value moves from the installed license to the new.
type Change string

// The changes.
const (
	Same      Change = "same"
	Up        Change = "up"
	Down      Change = "down"
	Gained    Change = "gained"
	Lost      Change = "lost"
	Unchanged Change = "unchanged"
)

// Limit is one limit of both licenses. A nil value was not sent.
type Limit struct {
	Name      string `json:"name"`
	Installed *int64 `json:"installed"`
	New       *int64 `json:"new"`
	Change    Change `json:"change"`
	seats     bool   // -1 means none available
}

// Flag is one feature flag of either license.
type Flag struct {
	Flag      string `json:"flag"`
	UILabel   string `json:"ui_label,omitempty"`
	Installed bool   `json:"installed"`
	New       bool   `json:"new"`
	Change    Change `json:"change"`
}

// Report is the comparison.
type Report struct {
	Endpoint string `json:"endpoint"`
	Valid    bool   `json:"valid"`
	Expiry   struct {
		Installed  time.Time `json:"installed"`
		New        time.Time `json:"new"`
		DaysGained float64   `json:"days_gained"`
		Change     Change    `json:"change"`
	} `json:"expiry"`
	Limits   []Limit  `json:"limits"`
	Flags    []Flag   `json:"feature_flags"`
	Losses   []string `json:"losses"`
	ExitCode int      `json:"exit_code"`
}

// Compare compares the installed license with the one a key holds.
func Compare(endpoint string, installed, next *datarobot.LicenseInfo) *Report {
	r := &Report{Endpoint: endpoint, Valid: true, Losses: []string{}}
	r.Expiry.Installed = installed.ExpirationTimestamp.Time
	r.Expiry.New = next.ExpirationTimestamp.Time
	r.Expiry.DaysGained = math.Round(r.Expiry.New.Sub(r.Expiry.Installed).Hours()/24*10) / 10
	r.Expiry.Change = direction(float64(r.Expiry.Installed.Unix()), float64(r.Expiry.New.Unix()))
	if r.Expiry.Change == Down {
		r.Losses = append(r.Losses, fmt.Sprintf("expires %.1f days sooner", -r.Expiry.DaysGained))
	}

	for _, l := range []Limit{
		{Name: "concurrent_workers", Installed: installed.ConcurrentWorkersCount, New: next.ConcurrentWorkersCount},
		{Name: "max_active_users", Installed: installed.MaximumActiveUsers, New: next.MaximumActiveUsers},
		{Name: "max_deployments", Installed: installed.MaxDeploymentLimit, New: next.MaxDeploymentLimit},
		{Name: "prepaid_deployments", Installed: installed.PrepaidDeploymentLimit, New: next.PrepaidDeploymentLimit},
		{Name: "genai_seats", Installed: installed.GenAISeatLicensesLimit, New: next.GenAISeatLicensesLimit, seats: true},
		{Name: "agentic_governance_seats", Installed: installed.AgenticPredictiveGovernanceSeatLicensesLimit, New: next.AgenticPredictiveGovernanceSeatLicensesLimit, seats: true},
		{Name: "cpu_usage_limit", Installed: installed.CPUUsageLimit, New: next.CPUUsageLimit, seats: true},
	} {
		if l.Installed == nil && l.New == nil {
			continue
		}
		l.Change = direction(effective(l.Installed, l.seats), effective(l.New, l.seats))
		if l.Change == Down {
			r.Losses = append(r.Losses, fmt.Sprintf("lowers %s from %s to %s", l.Name, l.show(l.Installed), l.show(l.New)))
		}
		r.Limits = append(r.Limits, l)
	}

	keys := slices.Sorted(maps.Keys(installed.FeatureFlags))
	for k := range next.FeatureFlags {
		if _, ok := installed.FeatureFlags[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		old, now := installed.FeatureFlags[k], next.FeatureFlags[k]
		f := Flag{Flag: k, UILabel: now.UILabel, Installed: old.Value, New: now.Value, Change: Unchanged}
		if f.UILabel == "" {
			f.UILabel = old.UILabel
		}
		switch {
		case old.Value && !now.Value:
			f.Change = Lost
			r.Losses = append(r.Losses, "drops feature "+k)
		case !old.Value && now.Value:
			f.Change = Gained
		}
		r.Flags = append(r.Flags, f)
	}
	if len(r.Losses) > 0 {
		r.ExitCode = ExitLosesSth
	}
	return r
}

// effective orders limit values: unsent or 0 (unlimited) as +Inf, -1 (none
// available, for the seat limits) as 0.
func effective(v *int64, seats bool) float64 {
	switch {
	case v == nil:
		return math.NaN()
	case *v == 0:
		return math.Inf(1)
	case *v < 0 && seats:
		return 0
	}
	return float64(*v)
}

func direction(old, now float64) Change {
	switch {
	case math.IsNaN(old) && math.IsNaN(now), old == now:
		return Same
	case math.IsNaN(now):
		return Down // a limit the new license no longer states
	case math.IsNaN(old), now > old:
		return Up
	}
	return Down
}

// show writes a limit value for people.
func (l Limit) show(v *int64) string {
	switch {
	case v == nil:
		return "not set"
	case *v == 0:
		return "unlimited"
	case *v < 0 && l.seats:
		return "none"
	}
	return strconv.FormatInt(*v, 10)
}

// WriteJSON writes the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report side by side, for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "License key checked by %s: valid. Nothing was installed.\n\n", r.Endpoint)
	tw := tabwriter.NewWriter(&b, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "\tinstalled\tnew key\tchange")
	fmt.Fprintf(tw, "expires\t%s\t%s\t%+.1f days\n", r.Expiry.Installed.Format("2006-01-02"), r.Expiry.New.Format("2006-01-02"), r.Expiry.DaysGained)
	for _, l := range r.Limits {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.Name, l.show(l.Installed), l.show(l.New), l.Change)
	}
	_ = tw.Flush()
	counts := map[Change]int{}
	for _, f := range r.Flags {
		counts[f.Change]++
	}
	fmt.Fprintf(&b, "\nfeature flags: %d gained, %d lost, %d unchanged\n", counts[Gained], counts[Lost], counts[Unchanged])
	for _, f := range r.Flags {
		mark := map[Change]string{Gained: "+", Lost: "-"}[f.Change]
		if mark == "" {
			continue
		}
		label := ""
		if f.UILabel != "" {
			label = " (" + f.UILabel + ")"
		}
		fmt.Fprintf(&b, "  %s %s%s\n", mark, f.Flag, label)
	}
	if len(r.Losses) == 0 {
		fmt.Fprintf(&b, "\nThe new key loses nothing. (exit %d)\n", r.ExitCode)
	} else {
		fmt.Fprintf(&b, "\nThe new key %s. (exit %d)\n", strings.Join(r.Losses, "; "), r.ExitCode)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// API is what the check needs of DataRobot; *datarobot.Client has it.
type API interface {
	ClusterLicense(ctx context.Context) (*datarobot.ClusterLicense, error)
	ValidateLicense(ctx context.Context, key string) (*datarobot.LicenseInfo, error)
}

// Run checks key against the installed license and writes the report to
// out as "text" or "json", and problems to errOut. It never installs the
// key, and never writes it. It returns the exit code.
func Run(ctx context.Context, api API, endpoint, key, format string, out, errOut io.Writer) int {
	installed, err := api.ClusterLicense(ctx)
	if err != nil {
		fmt.Fprintf(errOut, "check-license: cannot read the installed license: %v\n", err)
		return ExitInvalid
	}
	next, err := api.ValidateLicense(ctx, key)
	if datarobot.IsInvalidLicense(err) {
		if format == "json" {
			_ = json.NewEncoder(out).Encode(map[string]any{"endpoint": endpoint, "valid": false, "exit_code": ExitInvalid, "error": err.Error()})
		}
		fmt.Fprintf(errOut, "check-license: DataRobot says the license key is invalid or has expired: %v\n", err)
		return ExitInvalid
	}
	if err != nil {
		fmt.Fprintf(errOut, "check-license: cannot validate the license key: %v\n", err)
		return ExitInvalid
	}
	r := Compare(endpoint, &installed.LicenseInfo, next)
	if format == "json" {
		err = r.WriteJSON(out)
	} else {
		err = r.WriteText(out)
	}
	if err != nil {
		fmt.Fprintf(errOut, "check-license: %v\n", err)
		return ExitInvalid
	}
	return r.ExitCode
}

// ReadKey reads a license key from r: trimmed, at most 1 MiB, not empty.
func ReadKey(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20+1))
	if err != nil {
		return "", err
	}
	if len(b) > 1<<20 {
		return "", fmt.Errorf("the license key is larger than 1 MiB")
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", fmt.Errorf("the license key is empty")
	}
	return key, nil
}
