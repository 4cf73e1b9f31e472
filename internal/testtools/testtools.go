// Package testtools finds the external programs that tests run: promtool,
// prometheus and alertmanager from Debian's packages.
package testtools

import (
	"os"
	"os/exec"
	"testing"
)

// Require returns the path of the first of names found on PATH. When none
// is, the test is skipped, unless DRLE_REQUIRE_TOOLS is set, as the README's
// test command (make test) sets it: there a missing program fails the test.
func Require(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("DRLE_REQUIRE_TOOLS") != "" {
		t.Fatalf("none of %v found; `make test` installs them", names)
	}
	t.Skipf("none of %v found; `make test` installs them", names)
	return ""
}
