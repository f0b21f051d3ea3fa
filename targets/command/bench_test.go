package command

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"predictlab/internal/targetsapi"
	"predictlab/internal/testutil"
)

// The benchmarks run "targets all" as a child process (so the load they put on
// it does not share its Go runtime) and report latency in ms and throughput in
// req/s with b.ReportMetric. Each iteration is a fixed amount of work: run with
// -benchtime 1x (make bench). Set TARGETS_BIN to use a built binary.

const seedInput = "[5.1, 3.5, 1.4, 0.2]"

type targetsProc struct {
	*testutil.Process
	ports []int
}

func startTargets(b *testing.B) *targetsProc {
	b.Helper()
	bin := os.Getenv("TARGETS_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "targets")
		out, err := exec.Command("go", "build", "-o", bin, "predictlab/targets").CombinedOutput()
		if err != nil {
			b.Fatalf("build targets: %v\n%s", err, out)
		}
	}
	ports := testutil.FreePorts(b, 5)
	args := append([]string{bin}, allArgs(ports)...)
	p := &targetsProc{Process: testutil.Start(b, "targets all", args), ports: ports}
	for _, port := range []int{ports[1], ports[3]} {
		testutil.WaitHealthy(b, fmt.Sprintf("http://127.0.0.1:%d%s", port, targetsapi.HealthPath), 10*time.Second, p.Done())
	}
	return p
}

func (p *targetsProc) url(t targetsapi.Target) string {
	port := p.ports[1]
	if t == targetsapi.Async {
		port = p.ports[3]
	}
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, t.PredictPath())
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}}
}

// post sends the seed input and returns the response time.
func post(c *http.Client, url string) (time.Duration, error) {
	d, _, err := postDetail(c, url)
	return d, err
}

// postDetail sends the seed input and returns the response time and the answer's detail.
func postDetail(c *http.Client, url string) (time.Duration, float64, error) {
	start := time.Now()
	resp, err := c.Post(url, "application/json", strings.NewReader(seedInput))
	if err != nil {
		return 0, 0, err
	}
	var a struct {
		Detail float64 `json:"detail"`
	}
	err = json.NewDecoder(resp.Body).Decode(&a)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != 200 {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return d, a.Detail, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(len(ds), 1))
}

// sequential sends n requests one at a time.
func sequential(b *testing.B, c *http.Client, url string, n int) []time.Duration {
	b.Helper()
	var out []time.Duration
	for range n {
		d, err := post(c, url)
		if err != nil {
			b.Fatalf("POST %s: %v", url, err)
		}
		out = append(out, d)
	}
	return out
}

// concurrent runs clients closed-loop clients for dur and returns the response
// times and the throughput.
func concurrent(b *testing.B, url string, clients int, dur time.Duration) ([]time.Duration, float64) {
	b.Helper()
	c := newClient()
	var (
		mu    sync.Mutex
		times []time.Duration
		fails int
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				d, err := post(c, url)
				mu.Lock()
				if err != nil {
					fails++
				} else {
					times = append(times, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if fails > 0 {
		b.Errorf("%d requests failed", fails)
	}
	return times, float64(len(times)) / elapsed.Seconds()
}

// BenchmarkOneAtATime: 100 requests one at a time against each scoring service.
// Floors: sync median ≈ 90 ms (two delays in a row), async ≈ 47.1 ms (the larger
// of two delays). Targets: sync ≤ 91.5 ms, async ≤ 48.5 ms. For sync it also
// reports the median of (response time − the two delays the model drew).
func BenchmarkOneAtATime(b *testing.B) {
	p := startTargets(b)
	for _, route := range targetsapi.Targets() {
		b.Run(route.String(), func(b *testing.B) {
			c := newClient()
			sequential(b, c, p.url(route), 5) // warm up connections
			for range b.N {
				var ts, over []time.Duration
				for range 100 {
					d, detail, err := postDetail(c, p.url(route))
					if err != nil {
						b.Fatalf("POST: %v", err)
					}
					ts = append(ts, d)
					if route == targetsapi.Sync { // the two delays add up: 2 × their mean
						over = append(over, d-time.Duration(2*detail*float64(time.Second)))
					}
				}
				b.ReportMetric(ms(median(ts)), "median_ms")
				b.ReportMetric(ms(mean(ts)), "mean_ms")
				if route == targetsapi.Sync {
					b.ReportMetric(ms(median(over)), "median_overhead_ms")
				}
			}
		})
	}
}

// BenchmarkFortyClients: 40 closed-loop clients. Sync (W=8 workers): throughput
// should be 8/E[service time] (≈ 88 req/s), within ±5%. Async: no queueing,
// median ≤ 55 ms.
func BenchmarkFortyClients(b *testing.B) {
	p := startTargets(b)
	b.Run(targetsapi.Sync.String(), func(b *testing.B) {
		c := newClient()
		sequential(b, c, p.url(targetsapi.Sync), 5)
		service := mean(sequential(b, c, p.url(targetsapi.Sync), 20)) // E[service time] at no load
		for range b.N {
			ts, rps := concurrent(b, p.url(targetsapi.Sync), 40, 6*time.Second)
			expected := 8 / service.Seconds()
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(expected, "expected_req/s")
			b.ReportMetric(100*(rps/expected-1), "deviation_%")
			b.ReportMetric(ms(median(ts)), "median_ms")
		}
	})
	b.Run(targetsapi.Async.String(), func(b *testing.B) {
		for range b.N {
			ts, rps := concurrent(b, p.url(targetsapi.Async), 40, 4*time.Second)
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(ms(median(ts)), "median_ms")
		}
	})
}
