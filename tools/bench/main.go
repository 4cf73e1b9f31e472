// Command bench measures the exporter as a user runs it: the built binary,
// scraped over HTTP, against the fake DataRobot API. It reports, with 20
// and with 500 feature flags, the median scrape time against the median of
// a direct call to the API, the exporter's CPU time per 1,000 scrapes, its
// RSS after 1,000 and 10,000 scrapes, and the upstream calls per scrape, and
// checks them against the project's goals. Run it with `make bench`.
//
// Beside the exporter it runs a floor: a Go proxy, in its own process with
// the exporter's GOMAXPROCS, that makes the same two API calls per request
// and passes the license answer through untouched. No exporter that calls
// the API on each scrape can be faster than that, so its figures say how
// much of a scrape is the exporter's own work.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

const token = "bench-token-0d9e"

// goal is one figure and its bound.
type goal struct {
	name  string
	value float64
	max   float64
	unit  string
}

// failure is a fatal error of the benchmark; main reports it after the
// deferred clean-ups (the exporter's process) have run.
type failure struct{ err error }

func main() {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			fmt.Fprintln(os.Stderr, "bench:", f.err)
			os.Exit(2)
		}
	}()
	scrapes := flag.Int("scrapes", 10000, "scrapes in the soak phase (RSS is read after 1,000 and after this many)")
	floorAddr := flag.String("floor.listen", "", "serve as the floor proxy on this address, for the API at -floor.api (the benchmark starts it)")
	floorAPI := flag.String("floor.api", "", "the API the floor proxy calls")
	flag.Parse()
	if *floorAddr != "" {
		check(serveFloor(*floorAddr, *floorAPI))
		return
	}
	dir, err := os.MkdirTemp("", "drle-bench")
	check(err)
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "datarobot_license_exporter")
	// Built as `make build` builds it: static, without symbols.
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	check(build.Run())

	fmt.Printf("datarobot_license_exporter benchmark, %s, %d CPUs\n\n", time.Now().UTC().Format(time.RFC3339), numCPU())
	var goals []goal
	for _, flags := range []int{20, 500} {
		goals = append(goals, runCase(bin, dir, flags, *scrapes)...)
	}
	fmt.Printf("\n%-52s %12s %12s  %s\n", "goal", "measured", "at most", "")
	failed := 0
	for _, g := range goals {
		verdict := "met"
		if g.value > g.max {
			verdict = "MISSED"
			failed++
		}
		fmt.Printf("%-52s %12.3f %12.3f  %s %s\n", g.name, g.value, g.max, g.unit, verdict)
	}
	if failed > 0 {
		fmt.Printf("\n%d goals missed\n", failed)
		os.Exit(1)
	}
	fmt.Println("\nall goals met")
}

func runCase(bin, dir string, flags, soak int) []goal {
	fake := fakeapi.New(token, fakeapi.ExampleLicense(time.Now().Add(30*24*time.Hour), flags))
	api := httptest.NewServer(fake)
	defer api.Close()
	cfg := filepath.Join(dir, "config.yml")
	check(os.WriteFile(cfg, []byte(fmt.Sprintf("clusters:\n  - name: bench\n    url: %s\n    token: %s\n", api.URL, token)), 0o600))

	// --web.max-requests=0: the default of 40 would answer 503 to some of
	// the 50 concurrent scrapes below.
	exporter := func(extra ...string) (pid int, addr string, stop func()) {
		addr = fmt.Sprintf("127.0.0.1:%d", freePort())
		pid, stop = startProc([]string{"DATAROBOT_API_TOKEN=" + token}, append([]string{bin,
			"--datarobot.url=" + api.URL, "--config.file=" + cfg, "--web.listen-address=" + addr,
			"--log.level=warn", "--web.max-requests=0"}, extra...)...)
		waitHealthy("http://" + addr + "/-/healthy")
		return pid, addr, stop
	}
	pid, addr, stop := exporter()
	defer stop()
	leanPID, leanAddr, stopLean := exporter("--web.disable-exporter-metrics")
	defer stopLean()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	metricsURL := "http://" + addr + "/metrics"
	probeURL := "http://" + addr + "/probe?target=bench"
	directURL := api.URL + fakeapi.LicensePath
	direct := func() { fetch(client, directURL, true, io.Discard) }
	scrape := func() { fetch(client, metricsURL, false, io.Discard) }
	probe := func() { fetch(client, probeURL, false, io.Discard) }
	leanURL := "http://" + leanAddr + "/metrics"
	lean := func() { fetch(client, leanURL, false, io.Discard) }

	floorAddr := fmt.Sprintf("127.0.0.1:%d", freePort())
	self, err := os.Executable()
	check(err)
	floorPID, stopFloor := startProc([]string{"GOMAXPROCS=1"}, self, "-floor.listen="+floorAddr, "-floor.api="+api.URL)
	defer stopFloor()
	floorURL := "http://" + floorAddr + "/"
	waitHealthy(floorURL)
	floor := func() { fetch(client, floorURL, false, io.Discard) }

	// Warm up, then time each kind of request in turn, so that all see the
	// same machine.
	for range 200 {
		direct()
		scrape()
		probe()
		lean()
		floor()
	}
	const n = 1000
	var dT, sT, pT, lT, fT []time.Duration
	for range n {
		dT = append(dT, timed(direct))
		sT = append(sT, timed(scrape))
		pT = append(pT, timed(probe))
		lT = append(lT, timed(lean))
		fT = append(fT, timed(floor))
	}
	dMed, sMed, pMed, lMed, fMed := median(dT), median(sT), median(pT), median(lT), median(fT)

	// CPU seconds of the process pid over 1,000 requests, and the upstream
	// calls of the scrapes of /metrics.
	cpuPer1000 := func(pid int, request func()) float64 {
		cpu0 := cpuSeconds(pid)
		for range n {
			request()
		}
		return cpuSeconds(pid) - cpu0
	}
	calls0 := fake.Calls(fakeapi.LicensePath) + fake.Calls(fakeapi.VersionPath)
	scrapeCPU := cpuPer1000(pid, scrape)
	callsPerScrape := float64(fake.Calls(fakeapi.LicensePath)+fake.Calls(fakeapi.VersionPath)-calls0) / n
	probeCPU := cpuPer1000(pid, probe)
	leanCPU := cpuPer1000(leanPID, lean)
	floorCPU := cpuPer1000(floorPID, floor)
	rss1000 := memMB(pid, "VmRSS")
	for range soak - n {
		scrape()
	}
	rssSoak := memMB(pid, "VmRSS")
	anonSoak, fileSoak := memMB(pid, "RssAnon"), memMB(pid, "RssFile")

	// 50 concurrent scrapes during one slow upstream call.
	fake.SetDelay(300 * time.Millisecond)
	c0 := fake.Calls(fakeapi.LicensePath)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(scrape)
	}
	wg.Wait()
	fake.SetDelay(0)
	concurrentCalls := fake.Calls(fakeapi.LicensePath) - c0

	fmt.Printf("== %d feature flags (license answer %d bytes)\n", flags, len(fakeapi.ExampleLicense(time.Now(), flags).JSON()))
	fmt.Printf("  direct call to the API, median        %9.3f ms\n", ms(dMed))
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	showTime := func(label string, d time.Duration) {
		fmt.Printf("  %-40s %6.3f ms  (%.2fx the direct call, %.2fx the floor)\n", label, ms(d), ratio(d, dMed), ratio(d, fMed))
	}
	showTime("scrape of /metrics, median", sMed)
	showTime("scrape of /probe, median", pMed)
	showTime("/metrics, --web.disable-exporter-metrics", lMed)
	fmt.Printf("  floor: proxy making the same calls    %9.3f ms  (%.2fx the direct call)\n", ms(fMed), ratio(fMed, dMed))
	showCPU := func(label string, perThousand float64, what string) {
		fmt.Printf("  %-40s %6.3f s   (%.3f ms per %s)\n", label, perThousand, perThousand, what)
	}
	showCPU("exporter CPU per 1,000 scrapes", scrapeCPU, "scrape of /metrics")
	showCPU("the same, --web.disable-exporter-metrics", leanCPU, "scrape of /metrics")
	showCPU("exporter CPU per 1,000 probes", probeCPU, "scrape of /probe")
	showCPU("floor proxy CPU per 1,000 requests", floorCPU, "request")
	fmt.Printf("  upstream calls per scrape             %9.2f     (both endpoints)\n", callsPerScrape)
	fmt.Printf("  RSS after 1,000 scrapes               %9.1f MB\n", rss1000)
	fmt.Printf("  RSS after %d scrapes               %9.1f MB  (%+.1f MB)\n", soak, rssSoak, rssSoak-rss1000)
	fmt.Printf("    of which the binary's file pages    %9.1f MB, anonymous (heap, stacks, runtime) %.1f MB\n", fileSoak, anonSoak)
	fmt.Printf("  50 concurrent scrapes, one slow call  %9d calls to clusterLicense\n", concurrentCalls)

	maxRatio, maxCPU := 2.0, 0.5
	if flags == 500 {
		maxRatio, maxCPU = 3.0, 2.0
	}
	tag := fmt.Sprintf("%d flags: ", flags)
	return []goal{
		{tag + "scrape / direct call (median)", ratio(sMed, dMed), maxRatio, "x"},
		{tag + "probe / direct call (median)", ratio(pMed, dMed), maxRatio, "x"},
		{tag + "exporter CPU per scrape of /metrics", scrapeCPU, maxCPU, "ms"},
		{tag + "exporter CPU per scrape of /probe", probeCPU, maxCPU, "ms"},
		{tag + "RSS after " + strconv.Itoa(soak) + " scrapes", rssSoak, 15, "MB"},
		{tag + "RSS growth 1,000 to " + strconv.Itoa(soak) + " scrapes", max(0, rssSoak-rss1000), 1, "MB"},
		{tag + "upstream calls per scrape", callsPerScrape, 2, "calls"},
		{tag + "calls for 50 concurrent scrapes", float64(concurrentCalls), 1, "calls"},
	}
}

// startProc starts a program with env added to the environment, and
// returns its PID and a function that stops it.
func startProc(env []string, args ...string) (pid int, stop func()) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	return cmd.Process.Pid, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
}

// serveFloor serves the floor proxy: each request makes the exporter's two
// API calls at once and answers with the license body as it came. A failed
// call fails the request, and so the benchmark.
func serveFloor(addr, api string) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var wg sync.WaitGroup
		wg.Go(func() { fetch(client, api+fakeapi.VersionPath, true, io.Discard) })
		var license bytes.Buffer
		fetch(client, api+fakeapi.LicensePath, true, &license)
		wg.Wait()
		_, _ = w.Write(license.Bytes()) // a client that hung up is no failure
	}))
}

// fetch GETs url, with the API token when direct, copies the answer to w,
// and stops the benchmark unless it is a 200.
func fetch(c *http.Client, url string, direct bool, w io.Writer) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if direct {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	check(err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		check(fmt.Errorf("%s: HTTP %d", url, resp.StatusCode))
	}
	_, err = io.Copy(w, resp.Body)
	check(err)
}

func timed(f func()) time.Duration {
	t := time.Now()
	f()
	return time.Since(t)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// cpuSeconds reads a process's user and system CPU time from /proc.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// memMB reads one of a process's memory figures (VmRSS, RssAnon, RssFile)
// from /proc.
func memMB(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	check(fmt.Errorf("no %s in /proc/%d/status", field, pid))
	return 0
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitHealthy(url string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	check(fmt.Errorf("the exporter did not start"))
}

func check(err error) {
	if err != nil {
		panic(failure{err})
	}
}
