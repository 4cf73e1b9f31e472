// Command vulnreport reads govulncheck's JSON output on stdin and sums it
// up: the vulnerabilities the code calls, by module. It exits 1 when the
// code calls a vulnerable function of a module the project requires, which
// an upgrade fixes. Vulnerabilities of the Go standard library are shown
// but do not fail: they are fixed by the Go toolchain the machine has,
// which the project does not choose (make vulncheck says which Go fixes
// them).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

func main() {
	dec := json.NewDecoder(os.Stdin)
	called := map[string]map[string]string{} // module -> osv -> fixed in
	seen := 0
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulnreport: reading govulncheck's output:", err)
			os.Exit(2)
		}
		seen++
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // not called: only imported or required
		}
		mod := f.Trace[0].Module
		if called[mod] == nil {
			called[mod] = map[string]string{}
		}
		called[mod][f.OSV] = f.FixedVersion
	}
	if seen == 0 {
		fmt.Fprintln(os.Stderr, "vulnreport: no govulncheck output")
		os.Exit(2)
	}
	mods := make([]string, 0, len(called))
	for m := range called {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	failed := false
	for _, mod := range mods {
		ids := make([]string, 0, len(called[mod]))
		for id := range called[mod] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		what := "FAIL: upgrade the module"
		if mod == "stdlib" {
			what = "note: fixed by a newer Go toolchain"
		} else {
			failed = true
		}
		for _, id := range ids {
			fmt.Printf("%s: %s called, fixed in %s (%s)\n", mod, id, called[mod][id], what)
		}
	}
	if len(mods) == 0 {
		fmt.Println("vulncheck: the code calls no known vulnerable function")
	}
	if failed {
		os.Exit(1)
	}
}
