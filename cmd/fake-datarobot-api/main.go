// Command fake-datarobot-api serves a fake of DataRobot's license API, for
// the demo and for trying the exporter, its dashboards and its alerts
// without a DataRobot cluster.
package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

func main() {
	app := kingpin.New("fake-datarobot-api", "A fake of DataRobot's license API (clusterLicense and version).")
	listen := app.Flag("listen-address", "Address to listen on.").Default("127.0.0.1:9919").String()
	token := app.Flag("token", "The API token the fake accepts.").Default("demo-token").String()
	expiresIn := app.Flag("expires-in", "How long from now the license expires; negative for an expired license.").Default("720h").Duration()
	flags := app.Flag("feature-flags", "How many feature flags the license has.").Default("3").Int()
	names := []string{"none"}
	for _, f := range fakeapi.Faults {
		names = append(names, string(f))
	}
	fault := app.Flag("fault", "Fail every call this way: "+strings.Join(names, ", ")+".").Default("none").String()
	delay := app.Flag("delay", "Wait this long before every answer.").Default("0s").Duration()
	deployments := app.Flag("deployments", "How many deployments GET deployments lists.").Default("12").Int()
	licenseKey := app.Flag("license-key", "A license key clusterLicenseValidation accepts, for a license one year longer with one more feature flag.").Default("demo-license-key").String()
	app.HelpFlag.Short('h')
	kingpin.MustParse(app.Parse(os.Args[1:]))

	f, err := fakeapi.ParseFault(*fault)
	if err != nil {
		app.Fatalf("--fault: %s", err)
	}
	if *flags < 0 {
		app.Fatalf("--feature-flags must not be negative")
	}
	lic := fakeapi.ExampleLicense(time.Now().Add(*expiresIn).Truncate(time.Second), *flags)
	lic.Expired = *expiresIn < 0
	s := fakeapi.New(*token, lic)
	s.SetFault("", f)
	s.SetDelay(*delay)
	s.SetDeployments(*deployments, true)
	renewal := lic
	renewal.Expiration = lic.Expiration.AddDate(1, 0, 0)
	renewal.Flags = append(fakeapi.ExampleFlags(*flags), fakeapi.Flag{Key: "ENABLE_RENEWAL_BONUS", UILabel: "Renewal bonus", Value: true})
	s.AddLicenseKey(*licenseKey, renewal)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		app.Fatalf("%s", err)
	}
	fmt.Fprintf(os.Stderr, "fake DataRobot API on http://%s/api/v2 (token %q, license expires %s)\n",
		ln.Addr(), *token, lic.Expiration.Format(time.RFC3339))
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		app.Fatalf("%s", err)
	}
}
