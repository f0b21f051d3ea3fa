package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks run "targets all" as a child process (so the load they put on
// it does not share its Go runtime) and report latency in ms and throughput in
// req/s with b.ReportMetric. Each iteration is a fixed amount of work: run with
// -benchtime 1x (make bench). Set TARGETS_BIN to use a built binary.

const seedInput = "[5.1, 3.5, 1.4, 0.2]"

type targetsProc struct {
	cmd   *exec.Cmd
	ports []int
}

func startTargets(b *testing.B) *targetsProc {
	b.Helper()
	bin := os.Getenv("TARGETS_BIN")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "targets")
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			b.Fatalf("build targets: %v\n%s", err, out)
		}
	}
	ports := freePortsB(b, 5)
	args := []string{"all",
		"--sync-model-port", strconv.Itoa(ports[0]), "--sync-scoring-port", strconv.Itoa(ports[1]),
		"--async-model-port", strconv.Itoa(ports[2]), "--async-scoring-port", strconv.Itoa(ports[3]),
		"--store-port", strconv.Itoa(ports[4]), "--log-level", "warn"}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start targets: %v", err)
	}
	p := &targetsProc{cmd: cmd, ports: ports}
	b.Cleanup(p.stop)
	for i := 0; ; i++ {
		if run(context.Background(), []string{"healthcheck", fmt.Sprintf("http://127.0.0.1:%d/api/v1/healthcheck", ports[3])}, io.Discard, io.Discard) == nil &&
			run(context.Background(), []string{"healthcheck", fmt.Sprintf("http://127.0.0.1:%d/api/v1/healthcheck", ports[1])}, io.Discard, io.Discard) == nil {
			break
		}
		if i > 200 {
			b.Fatal("targets never became healthy")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return p
}

func (p *targetsProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func freePortsB(b *testing.B, n int) []int { return freePorts(b, n) }

func (p *targetsProc) url(route string) string {
	port := p.ports[1]
	if route == "async" {
		port = p.ports[3]
	}
	return fmt.Sprintf("http://127.0.0.1:%d/api/v1/ml/%s/predict", port, route)
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
	for _, route := range []string{"sync", "async"} {
		b.Run(route, func(b *testing.B) {
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
					if route == "sync" { // the two delays add up: 2 × their mean
						over = append(over, d-time.Duration(2*detail*float64(time.Second)))
					}
				}
				b.ReportMetric(ms(median(ts)), "median_ms")
				b.ReportMetric(ms(mean(ts)), "mean_ms")
				if route == "sync" {
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
	b.Run("sync", func(b *testing.B) {
		c := newClient()
		sequential(b, c, p.url("sync"), 5)
		service := mean(sequential(b, c, p.url("sync"), 20)) // E[service time] at no load
		for range b.N {
			ts, rps := concurrent(b, p.url("sync"), 40, 6*time.Second)
			expected := 8 / service.Seconds()
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(expected, "expected_req/s")
			b.ReportMetric(100*(rps/expected-1), "deviation_%")
			b.ReportMetric(ms(median(ts)), "median_ms")
		}
	})
	b.Run("async", func(b *testing.B) {
		for range b.N {
			ts, rps := concurrent(b, p.url("async"), 40, 4*time.Second)
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(ms(median(ts)), "median_ms")
		}
	})
}
