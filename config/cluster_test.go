package config

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

// TestRotatedTokenFile shows a token file rewritten while running used on
// the next call, with no restart.
func TestRotatedTokenFile(t *testing.T) {
	fake := fakeapi.New("old-token", fakeapi.ExampleLicense(time.Now().Add(time.Hour), 1))
	ts := httptest.NewServer(fake)
	defer ts.Close()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("old-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Flags{URL: ts.URL, TokenFile: path, EnvToken: "env-token-ignored", Timeout: time.Second}.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	client, err := c.NewClient("test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Version(context.Background()); err != nil {
		t.Fatalf("with the first token: %v", err)
	}
	// Rotate: the server takes only the new token, the file gets it.
	fake.SetToken("new-token")
	later := time.Now().Add(time.Second)
	if err := os.WriteFile(path, []byte("new-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Version(context.Background()); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if got := fake.TokensSeen(); len(got) != 2 || got[0] != "new-token" || got[1] != "old-token" {
		t.Errorf("tokens seen after rotation: %v", got)
	}
}

func TestEnvToken(t *testing.T) {
	fake := fakeapi.New("env-token", fakeapi.ExampleLicense(time.Now().Add(time.Hour), 1))
	ts := httptest.NewServer(fake)
	defer ts.Close()
	c, err := Flags{URL: ts.URL + "/api/v2/", EnvToken: "env-token", Timeout: time.Second}.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Token; string(got) != "env-token" {
		t.Fatalf("token %q", got)
	}
	client, err := c.NewClient("test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ClusterLicense(context.Background()); err != nil {
		t.Fatal(err)
	}
}
