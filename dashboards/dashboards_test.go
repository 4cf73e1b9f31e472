package dashboards

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/internal/testtools"
)

func load(t *testing.T) []Dashboard {
	t.Helper()
	ds, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("%d dashboards, want 2", len(ds))
	}
	return ds
}

func TestDashboardsAreImportable(t *testing.T) {
	wantUIDs := map[string]string{
		"datarobot-license-detail.json":   "datarobot-license-detail",
		"datarobot-license-overview.json": "datarobot-license-overview",
	}
	for _, d := range load(t) {
		if d.UID != wantUIDs[d.File] {
			t.Errorf("%s: uid %q, want %q (uids are stable: links and bookmarks use them)", d.File, d.UID, wantUIDs[d.File])
		}
		if !strings.Contains(strings.Join(d.Tags, ","), "datarobot") {
			t.Errorf("%s: tags %v", d.File, d.Tags)
		}
		vars := map[string]Variable{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v
		}
		if v := vars["datasource"]; v.Type != "datasource" || v.Query != "prometheus" {
			t.Errorf("%s: datasource variable %+v", d.File, v)
		}
		for _, name := range []string{"job", "instance"} {
			if v := vars[name]; v.Type != "query" || !v.Multi || !v.IncludeAll {
				t.Errorf("%s: %s variable must be a multi-select query with All: %+v", d.File, name, v)
			}
		}
		ids := map[int]bool{}
		for _, p := range d.Panels {
			if ids[p.ID] {
				t.Errorf("%s: panel id %d twice", d.File, p.ID)
			}
			ids[p.ID] = true
			if p.Type == "row" {
				continue
			}
			if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
				t.Errorf("%s: panel %q: datasource %+v, %d queries", d.File, p.Title, p.Datasource, len(p.Targets))
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" || tg.Datasource.UID != "${datasource}" {
					t.Errorf("%s: panel %q query %s: %+v", d.File, p.Title, tg.RefID, tg)
				}
				if strings.Contains(tg.Expr, "datarobot_") && !strings.Contains(tg.Expr, `instance=~"$instance"`) {
					t.Errorf("%s: panel %q query %s ignores the instance variable: %s", d.File, p.Title, tg.RefID, tg.Expr)
				}
			}
		}
	}
}

func TestRequiredPanels(t *testing.T) {
	want := map[string][]string{
		"datarobot-license-overview.json": {"Clusters", "Expiring within 30 days", "Expired", "Days until expiry", "API up"},
		"datarobot-license-detail.json": {"Days left", "Expires on", "Expired", "DataRobot version", "API up", "Limits",
			"Seat and CPU limits (DataRobot 2.36+)", "Feature flags", "License upload", "API call duration", "API errors by reason",
			"Deployments used", "Deployments against the limit"},
	}
	for _, d := range load(t) {
		have := map[string]bool{}
		for _, p := range d.Panels {
			have[p.Title] = true
		}
		for _, title := range want[d.File] {
			if !have[title] {
				t.Errorf("%s: no panel %q", d.File, title)
			}
		}
	}
}

// TestQueriesParse has promtool parse every query, as recording rules.
func TestQueriesParse(t *testing.T) {
	promtool := testtools.Require(t, "promtool")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard-queries\n    rules:\n")
	qs := Queries(load(t))
	for i, q := range qs {
		fmt.Fprintf(&b, "      - record: query_%d\n        expr: %q\n", i, Expand(q.Expr))
	}
	path := filepath.Join(t.TempDir(), "queries.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool cannot parse a dashboard query: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", len(qs))) {
		t.Fatalf("promtool: %s", out)
	}
}
