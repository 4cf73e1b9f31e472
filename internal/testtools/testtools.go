// Package testtools holds what the tests share: finding the external
// programs they run (promtool, prometheus and alertmanager from Debian's
// packages), and a buffer safe for concurrent use.
package testtools

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
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

// Buffer is a bytes.Buffer safe for concurrent use, for a logger or a
// program's output that a test reads while it is written. It has no
// ReadFrom, so that os/exec writes through Write.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
