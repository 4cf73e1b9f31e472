// Package dashboards holds the Grafana dashboards shipped with the exporter
// and reads their panel queries, which the tests run against a real
// Prometheus.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// Dashboard is the part of a Grafana dashboard the tests read.
type Dashboard struct {
	File       string
	UID        string   `json:"uid"`
	Title      string   `json:"title"`
	Tags       []string `json:"tags"`
	Panels     []Panel  `json:"panels"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is one panel; rows have no targets.
type Panel struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource Datasource `json:"datasource"`
	Targets    []Target   `json:"targets"`
}

// Datasource names a panel's or a query's data source.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string     `json:"refId"`
	Expr       string     `json:"expr"`
	Datasource Datasource `json:"datasource"`
}

// Variable is a template variable.
type Variable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Query      any    `json:"query"`
	Definition string `json:"definition"`
	Multi      bool   `json:"multi"`
	IncludeAll bool   `json:"includeAll"`
}

// All returns the shipped dashboards, sorted by file name.
func All() ([]Dashboard, error) {
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Dashboard, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		d.File = n
		out = append(out, d)
	}
	return out, nil
}

// Query is one panel query, or one variable's query, of a dashboard.
type Query struct {
	Where string // "file: panel title (refId)"
	Expr  string
}

// Queries returns every panel query and every variable query of the
// dashboards. Variable queries of the form label_values(SELECTOR, label)
// give SELECTOR.
func Queries(ds []Dashboard) []Query {
	var out []Query
	for _, d := range ds {
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			sel := strings.TrimSuffix(strings.TrimPrefix(v.Definition, "label_values("), ")")
			if i := strings.LastIndex(sel, ","); i >= 0 {
				sel = sel[:i]
			}
			out = append(out, Query{Where: fmt.Sprintf("%s: variable %s", d.File, v.Name), Expr: sel})
		}
		for _, p := range d.Panels {
			for _, t := range p.Targets {
				out = append(out, Query{Where: fmt.Sprintf("%s: %s (%s)", d.File, p.Title, t.RefID), Expr: t.Expr})
			}
		}
	}
	return out
}

// Expand replaces Grafana's variables in a query as Grafana does with
// every variable at "All" (the dashboards' allValue is .+), for running the
// query against Prometheus directly.
func Expand(expr string) string {
	return strings.NewReplacer(
		"$__rate_interval", "1m",
		"$__interval", "15s",
		"$__range", "1h",
		"${job}", ".+", "$job", ".+",
		"${instance}", ".+", "$instance", ".+",
	).Replace(expr)
}
