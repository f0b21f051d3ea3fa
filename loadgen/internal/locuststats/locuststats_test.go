package locuststats

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/stats"
)

// Python's round() as Locust's _log_response_time applies it, printed by
// Debian's python3 (round(x) below 100, round(x, -1), -2, -3 above).
func TestBucket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ms    float64
		key   float64
		isInt bool
	}{
		{0, 0, true}, {0.4, 0, true}, {0.5, 0, true}, {1.5, 2, true}, {2.5, 2, true},
		{12.5, 12, true}, {13.5, 14, true}, {99.4, 99, true}, {99.5, 100, true}, {99.6, 100, true},
		{100, 100, false}, {104.99, 100, false}, {105, 100, false}, {115, 120, false}, {125, 120, false},
		{145, 140, false}, {145.00000000000003, 150, false}, {147, 150, false}, {155, 160, false},
		{994.9, 990, false}, {995, 1000, false}, {1050, 1000, false}, {1150, 1200, false},
		{1250, 1200, false}, {3432, 3400, false}, {9949.99, 9900, false}, {9950, 10000, false},
		{10500, 10000, false}, {11500, 12000, false}, {12500, 12000, false}, {58760, 59000, false},
	}
	for _, tt := range tests {
		k, isInt := Bucket(tt.ms)
		if k != tt.key || isInt != tt.isInt {
			t.Errorf("Bucket(%v) = %v, %v; want %v, %v", tt.ms, k, isInt, tt.key, tt.isInt)
		}
	}
}

const node = "myhost_0123456789abcdef0123456789abcdef"

// clock is a settable fake clock.
type clock struct{ ns int64 }

func (c *clock) now() time.Time { return time.Unix(0, c.ns) }

const t0 = int64(1700000000_000000000)

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "locustproto", "testdata", "golden", name+".msgpack"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func encode(t *testing.T, rep Report, counts map[string]int64) []byte {
	t.Helper()
	var n int64
	for _, c := range counts {
		n += c
	}
	data := append(rep.Data, locustproto.KV{Key: "user_classes_count", Value: locustproto.SortedCounts(counts)},
		locustproto.KV{Key: "user_count", Value: n})
	b, err := locustproto.Encode(locustproto.Message{Type: locustproto.TypeStats, Data: data, NodeID: node})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The same requests as testdata/gen_golden.py logs into Locust's own
// RequestStats give the same bytes.
func TestReportGolden(t *testing.T) {
	t.Parallel()
	c := &clock{t0}
	r := New(c.now)
	c.ns = t0 + 3_000_000_000
	if got, want := encode(t, r.Report(), map[string]int64{}), golden(t, "stats_idle"); !bytes.Equal(got, want) {
		t.Errorf("idle report:\n got %x\nwant %x", got, want)
	}

	c.ns = t0
	r = New(c.now)
	c.ns = t0 + 500_000_000
	r.Clear()
	sync := "/api/v1/ml/sync/predict"
	rec := func(startNS int64, method, name string, rt time.Duration, content int64, err string) {
		c.ns = startNS + int64(rt)
		r.Record(stats.Result{Method: method, Name: name, Start: time.Unix(0, startNS), ResponseTime: rt,
			ContentLength: content, Err: err})
	}
	rec(t0+1_000_000_000, "POST", sync, 12500*time.Microsecond, 20, "")
	rec(t0+1_500_000_000, "POST", sync, 145*time.Millisecond, 20, "")
	rec(t0+2_200_000_000, "POST", sync, 99600*time.Microsecond, 0,
		"HTTPError('500 Server Error: INTERNAL SERVER ERROR for url: /api/v1/ml/sync/predict')")
	rec(t0+2_500_000_000, "GET", "/api/v1/healthcheck", 1234500*time.Microsecond, 15, "")
	c.ns = t0 + 4_000_000_000
	counts := map[string]int64{"ApiSyncUser": 50, "ApiAsyncUser": 0}
	rep := r.Report()
	if rep.Requests != 4 || rep.Failures != 1 {
		t.Errorf("report totals %d, %d; want 4, 1", rep.Requests, rep.Failures)
	}
	if got, want := encode(t, rep, counts), golden(t, "stats_full"); !bytes.Equal(got, want) {
		t.Errorf("full report:\n got %x\nwant %x", got, want)
	}
	c.ns = t0 + 7_000_000_000
	if got, want := encode(t, r.Report(), counts), golden(t, "stats_after"); !bytes.Equal(got, want) {
		t.Errorf("next report:\n got %x\nwant %x", got, want)
	}
}

// Concurrent recording loses nothing: the reports add up to what was sent.
func TestRecordConcurrent(t *testing.T) {
	t.Parallel()
	r := New(time.Now)
	const workers, each = 8, 500
	var wg sync.WaitGroup
	var total, fails int64
	var mu sync.Mutex
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			rep := r.Report()
			mu.Lock()
			total += rep.Requests
			fails += rep.Failures
			mu.Unlock()
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res := stats.Result{Method: "GET", Name: "/x", Start: time.Now(), ResponseTime: time.Duration(i) * time.Millisecond}
				if (i+w)%10 == 0 {
					res.Err = "boom"
				}
				r.Record(res)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
	rep := r.Report()
	total += rep.Requests
	fails += rep.Failures
	if total != workers*each || fails != workers*each/10 {
		t.Errorf("reported %d requests, %d failures; want %d, %d", total, fails, workers*each, workers*each/10)
	}
}
