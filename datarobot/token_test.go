package datarobot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if _, err := NewFileToken(path); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing file: %v", err)
	}
	write := func(s string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().Add(-time.Hour)
	write("  \n", base)
	if _, err := NewFileToken(path); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("empty file: %v", err)
	}
	write("first-token\n", base)
	f, err := NewFileToken(path)
	if err != nil {
		t.Fatal(err)
	}
	expect := func(want string) {
		t.Helper()
		got, err := f.Token()
		if err != nil || got != want {
			t.Fatalf("Token() = %q, %v; want %q", got, err, want)
		}
	}
	expect("first-token")
	var told []string
	f.OnError(func(err error) { told = append(told, err.Error()) })
	write("second-token\n", base.Add(time.Second)) // rotated
	expect("second-token")
	write("\n", base.Add(2*time.Second)) // emptied mid-rotation: keep the last good one
	expect("second-token")
	if err := f.LastError(); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("LastError() = %v", err)
	}
	expect("second-token") // the same error again: not told twice
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	expect("second-token")
	if len(told) != 2 || !strings.Contains(told[0], "is empty") || !strings.Contains(told[1], "no such file") {
		t.Errorf("told of %q, want the empty file, then the missing one", told)
	}
	for _, m := range told {
		if strings.Contains(m, "second-token") {
			t.Errorf("an error shows the token: %s", m)
		}
	}
	write("third-token", base.Add(3*time.Second))
	expect("third-token")
	if f.LastError() != nil {
		t.Errorf("LastError() = %v after a good read", f.LastError())
	}
}
