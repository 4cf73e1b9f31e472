package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/config"
	"github.com/datarobot-license-exporter/datarobot_license_exporter/licensecheck"
)

// checkLicense runs the check-license command: the new key from
// --license-file (or standard input), the cluster from --target or the
// flags. It never installs the key, and never prints it.
func checkLicense(s *settings, userAgent string, stdin io.Reader, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "%s check-license: error: %s\n", name, err)
		return licensecheck.ExitInvalid
	}
	var cluster *config.Cluster
	if s.target != "" {
		if s.configFile == "" {
			return fail(errors.New("--target needs --config.file"))
		}
		cfg, err := config.Load(s.configFile)
		if err != nil {
			return fail(err)
		}
		if cluster = cfg.Cluster(s.target); cluster == nil {
			return fail(fmt.Errorf("--target %q: no such cluster in %s", s.target, s.configFile))
		}
	} else {
		var err error
		if cluster, err = flagCluster(s.cluster, false, promslog.NewNopLogger()); err != nil {
			return fail(err)
		}
	}
	in := stdin
	if s.licenseFile != "-" {
		f, err := os.Open(s.licenseFile)
		if err != nil {
			return fail(fmt.Errorf("--license-file: %w", err))
		}
		defer f.Close()
		in = f
	}
	key, err := licensecheck.ReadKey(in)
	if err != nil {
		return fail(fmt.Errorf("--license-file: %w", err))
	}
	client, err := cluster.NewClient(userAgent, promslog.New(&s.log))
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return licensecheck.Run(ctx, client, client.Endpoint(), key, s.output, stdout, stderr)
}
