package master

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/locuststats"
	"predictlab/loadgen/internal/stats"
)

// wire sends a recorder's report through the msgpack encoding, as a
// worker's stats message, and returns the data the master decodes.
func wire(t *testing.T, rep locuststats.Report) locustproto.Map {
	t.Helper()
	data := append(rep.Data, locustproto.KV{Key: "user_classes_count", Value: locustproto.Map{}},
		locustproto.KV{Key: "user_count", Value: int64(0)})
	b, err := locustproto.Encode(locustproto.Message{Type: locustproto.TypeStats, Data: data, NodeID: "w_1"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := locustproto.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m.Data.(locustproto.Map)
}

var quantiles = []float64{0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1}

// On fixed data, two loadgen workers' reports (with their exact
// histograms) merged by the master give the same percentiles, counts, min,
// max and average as one process that saw every request. With Locust's
// buckets only (a Python worker's report) they do not.
func TestMergedEqualsOneProcess(t *testing.T) {
	t.Parallel()
	base := time.Unix(1700000000, 0)
	for _, hdr := range []bool{true, false} {
		one := stats.New(func() time.Time { return base })
		merged := stats.New(func() time.Time { return base })
		m := &Master{opts: Options{Stats: merged}, log: zerolog.Nop()}
		workers := []*locuststats.Recorder{locuststats.New(time.Now), locuststats.New(time.Now)}
		for _, w := range workers {
			w.SetHDR(hdr)
		}
		rnd := rand.New(rand.NewPCG(7, 11))
		for i := range 5000 {
			// Whole microseconds, spread from 1 ms to about 2 s, heavier below 100 ms.
			rt := time.Duration(1000+rnd.IntN(99000)) * time.Microsecond
			if i%10 == 0 {
				rt = time.Duration(100000+rnd.IntN(1900000)) * time.Microsecond
			}
			start := base.Add(time.Duration(i) * time.Millisecond)
			res := stats.Result{Method: "POST", Name: "/api/v1/ml/sync/predict", Start: start, Intended: start, ResponseTime: rt, ContentLength: 15}
			one.Record(res)
			workers[i%2].Record(res)
			if i%1000 == 999 { // a report every 1000 requests
				for _, w := range workers {
					m.mergeLocked(wire(t, w.Report()))
				}
			}
		}
		a, b := one.Snapshot().Total, merged.Snapshot().Total
		if a.NumRequests != b.NumRequests || a.Min() != b.Min() || a.Max() != b.Max() || a.Avg() != b.Avg() {
			t.Fatalf("hdr=%v: one process n=%d min=%v max=%v avg=%v; merged n=%d min=%v max=%v avg=%v", hdr,
				a.NumRequests, a.Min(), a.Max(), a.Avg(), b.NumRequests, b.Min(), b.Max(), b.Avg())
		}
		differ := 0
		for _, q := range quantiles {
			if x, y := a.Percentile(q), b.Percentile(q); x != y {
				differ++
				if hdr {
					t.Errorf("p%v: one process %v ms, merged %v ms", q*100, x, y)
				}
			}
		}
		if !hdr && differ == 0 {
			t.Error("with Locust's buckets only, every percentile still matched: the test proves nothing")
		}
		if m.Exact() != hdr {
			t.Errorf("hdr=%v: Exact() = %v", hdr, m.Exact())
		}
	}
}
