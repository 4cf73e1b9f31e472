package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/datarobot-license-exporter/datarobot_license_exporter/fakeapi"
)

var upRE = regexp.MustCompile(`(?m)^datarobot_up(?:\{[^}]*\})? (\S+)$`)

// TestSoakFaults scrapes the built exporter 10,000 times (DRLE_SOAK_SCRAPES
// to change it; make soak runs 100,000), alternating /metrics and /probe,
// while the fake API goes through every fault, first one after another,
// then mixed at random. Every scrape must answer 200 with datarobot_up
// following the API, from the first scrape after it recovers; goroutines
// and RSS must stay flat.
func TestSoakFaults(t *testing.T) {
	total := 10000
	if v := os.Getenv("DRLE_SOAK_SCRAPES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		total = n
	}
	dir := t.TempDir()
	fake := fakeapi.New(token, fakeapi.ExampleLicense(time.Now().Add(30*24*time.Hour), 20))
	fake.SetRetryAfter(0) // 429 without Retry-After: recovery is then immediate
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	cfg := filepath.Join(dir, "config.yml")
	writeFile(t, cfg, fmt.Sprintf("clusters:\n  - name: soak\n    url: %s\n    token: %s\n", api.URL, token))
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	start(t, "exporter", []string{"DATAROBOT_API_TOKEN=" + token},
		buildExporter(t), "--datarobot.url="+api.URL, "--config.file="+cfg, "--web.listen-address="+addr, "--log.level=error")
	waitFor(t, "the exporter", 20*time.Second, func() bool {
		_, code, err := get("http://" + addr + "/-/healthy")
		return err == nil && code == 200
	})

	client := &http.Client{Timeout: 10 * time.Second}
	urls := []string{"http://" + addr + "/metrics", "http://" + addr + "/probe?target=soak"}
	scrape := func(i int) (float64, string) {
		req, _ := http.NewRequest(http.MethodGet, urls[i%2], nil)
		// Prometheus's timeout of 0.8 s, less the 0.5 s offset: a hung API
		// costs 0.3 s a scrape.
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.8")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("scrape %d: %v", i, err)
		}
		body := string(b)
		if resp.StatusCode != 200 {
			t.Fatalf("scrape %d: HTTP %d", i, resp.StatusCode)
		}
		m := upRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("scrape %d: no datarobot_up", i)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v, body
	}
	own := func(name string) float64 {
		_, body := scrape(0)
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s", name)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}

	// The schedule: blocks of each fault with healthy blocks between, then
	// a fault drawn at random for each scrape. Hangs are rarer: each costs
	// a deadline.
	var plan []fakeapi.Fault
	for len(plan) < total/2 {
		for _, f := range fakeapi.Faults {
			n := 100
			if f == fakeapi.FaultHang {
				n = 6
			}
			for range n {
				plan = append(plan, f)
			}
			for range 20 {
				plan = append(plan, fakeapi.FaultNone)
			}
		}
	}
	plan = plan[:total/2]
	rng := rand.New(rand.NewPCG(1, 2))
	for len(plan) < total {
		f := fakeapi.FaultNone
		if rng.IntN(2) == 0 {
			f = fakeapi.Faults[rng.IntN(len(fakeapi.Faults))]
			if f == fakeapi.FaultHang && rng.IntN(10) != 0 {
				f = fakeapi.FaultNone
			}
		}
		plan = append(plan, f)
	}

	// settle lets the heap forget the last big answer (some garbage
	// collections' worth of healthy scrapes), then reads the live heap and
	// RSS. A leak shows in the heap; RSS also covers what is not heap.
	settle := func() (heap, rss float64) {
		fake.SetFault("", fakeapi.FaultNone)
		for j := range 300 {
			scrape(j)
		}
		return own("go_memstats_heap_inuse_bytes"), own("process_resident_memory_bytes")
	}
	firstCycle := len(fakeapi.Faults)*120 + 100
	var goroutines []float64
	var heapBase, rssBase float64
	started := time.Now()
	for i, f := range plan {
		fake.SetFault("", f)
		up, _ := scrape(i)
		want := 1.0
		if f != fakeapi.FaultNone {
			want = 0
		}
		if up != want {
			prev := fakeapi.Fault("start")
			if i > 0 {
				prev = plan[i-1]
			}
			t.Fatalf("scrape %d (%s after %s): datarobot_up %v, want %v", i, f, prev, up, want)
		}
		if i == firstCycle {
			heapBase, rssBase = settle()
		}
		if i > 0 && i%(total/4) == 0 {
			goroutines = append(goroutines, own("go_goroutines"))
		}
	}
	heapEnd, rssEnd := settle()
	goroutines = append(goroutines, own("go_goroutines"))
	t.Logf("%d scrapes in %s; goroutines at each quarter %v; after the first cycle and at the end: heap in use %.1f and %.1f MB, RSS %.1f and %.1f MB",
		total, time.Since(started).Round(time.Millisecond), goroutines, heapBase/1e6, heapEnd/1e6, rssBase/1e6, rssEnd/1e6)
	for _, g := range goroutines {
		if g > goroutines[0]+10 {
			t.Errorf("goroutines grew: %v", goroutines)
			break
		}
	}
	// A leak of 1 KB a scrape would add 10 MB over 10,000 scrapes. RSS
	// keeps for a while the peaks that answers of up to 1 MiB (the endless
	// fault) make, so its bound is wider.
	if heapEnd > heapBase+3e6 {
		t.Errorf("heap in use grew from %.1f MB to %.1f MB", heapBase/1e6, heapEnd/1e6)
	}
	if rssEnd > rssBase+10e6 {
		t.Errorf("RSS grew from %.1f MB to %.1f MB", rssBase/1e6, rssEnd/1e6)
	}
}
