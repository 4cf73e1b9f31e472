package datarobot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/datarobot"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

func TestDeployments(t *testing.T) {
	for _, c := range []struct {
		n         int
		withTotal bool
		calls     int
	}{
		{0, true, 1}, {7, true, 1}, {12345, true, 1},
		{0, false, 2}, {250, false, 4}, {300, false, 4}, // limit=1, then pages of 100
	} {
		s, ts := newFake(t)
		s.SetDeployments(c.n, c.withTotal)
		got, err := newClient(t, ts.URL).Deployments(context.Background())
		if err != nil || got != int64(c.n) {
			t.Errorf("%d deployments, totalCount %v: got %d, %v", c.n, c.withTotal, got, err)
		}
		if calls := s.Calls(fakeapi.DeploymentsPath); calls != c.calls {
			t.Errorf("%d deployments, totalCount %v: %d calls, want %d", c.n, c.withTotal, calls, c.calls)
		}
	}
	s, ts := newFake(t)
	s.SetDeployments(datarobot.DeploymentsPageSize*datarobot.DeploymentsMaxPages+1, false)
	if _, err := newClient(t, ts.URL).Deployments(context.Background()); datarobot.ReasonOf(err) != datarobot.ReasonBadResponse ||
		!strings.Contains(err.Error(), "more than 50 pages") {
		t.Errorf("too many pages: %v", err)
	}
}

// TestDeploymentsNextStaysHome: a next link to another server is refused;
// the token goes to DataRobot only.
func TestDeploymentsNextStaysHome(t *testing.T) {
	var strays int
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { strays++ }))
	defer other.Close()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"count": 1, "data": [{"id": "a"}], "next": "` + other.URL + `/api/v2/deployments/?offset=1"}`))
	}))
	defer ts.Close()
	_, err := newClient(t, ts.URL).Deployments(context.Background())
	if datarobot.ReasonOf(err) != datarobot.ReasonBadResponse || !strings.Contains(err.Error(), "leaves") || strays != 0 {
		t.Errorf("err %v, %d requests to the other server", err, strays)
	}
}

func TestValidateLicense(t *testing.T) {
	s, ts := newFake(t)
	next := fakeapi.ExampleLicense(time.Now().Add(400*24*time.Hour), 4)
	s.AddLicenseKey("GOOD-KEY-0123456789", next)
	c := newClient(t, ts.URL)
	l, err := c.ValidateLicense(context.Background(), "GOOD-KEY-0123456789")
	if err != nil || len(l.FeatureFlags) != 4 || !l.ExpirationTimestamp.Valid {
		t.Fatalf("%+v, %v", l, err)
	}
	_, err = c.ValidateLicense(context.Background(), "BAD-KEY-9876543210")
	if !datarobot.IsInvalidLicense(err) || !strings.HasPrefix(err.Error(), "POST clusterLicenseValidation/: ") ||
		!strings.Contains(err.Error(), "License is invalid or has expired.") {
		t.Errorf("bad key: %v", err)
	}
	if s.Puts() != 0 {
		t.Errorf("%d PUTs: validating must not install", s.Puts())
	}
	// A server that echoes the key does not get it into the error.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(422)
		b := make([]byte, 200)
		n, _ := r.Body.Read(b)
		_, _ = w.Write([]byte(`{"message": "rejected ` + strings.ReplaceAll(string(b[:n]), `"`, `'`) + `"}`))
	}))
	defer echo.Close()
	_, err = newClient(t, echo.URL).ValidateLicense(context.Background(), "SECRET-KEY-ABCDEFGHIJ")
	if err == nil || strings.Contains(err.Error(), "SECRET-KEY-ABCDEFGHIJ") || !strings.Contains(err.Error(), "<redacted>") {
		t.Errorf("echoed key: %v", err)
	}
}
