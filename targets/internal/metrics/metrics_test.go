package metrics

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"predictlab/targets/internal/executor"
)

// values gathers the registry into name → value (summed over label sets;
// histograms give their sample count).
func values(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			switch {
			case mt.Gauge != nil:
				out[mf.GetName()] += mt.GetGauge().GetValue()
			case mt.Counter != nil:
				out[mf.GetName()] += mt.GetCounter().GetValue()
			case mt.Histogram != nil:
				out[mf.GetName()] += float64(mt.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// TestBlockingMetricsMove: with W=2 and 6 requests held, the gauges read 2 busy
// and 4 queued; afterwards the queue-wait histogram has 6 samples.
func TestBlockingMetricsMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("scoring")
		b := executor.NewBlocking(executor.BlockingConfig{Workers: 2, Backlog: 10, Hooks: m.Hooks()})
		defer b.Close()
		m.WatchBlocking(b)
		release := make(chan struct{})
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				done, _ := m.RequestStarted()
				_ = b.Do(context.Background(), func(context.Context, executor.Runtime) { <-release })
				done(200)
			}()
		}
		synctest.Wait()
		v := values(t, m)
		want := map[string]float64{
			"predictlab_workers_busy": 2, "predictlab_queue_length": 4,
			"predictlab_workers_total": 2, "predictlab_inflight_requests": 6,
		}
		for name, w := range want {
			if v[name] != w {
				t.Errorf("%s = %v, want %v", name, v[name], w)
			}
		}
		close(release)
		wg.Wait()
		v = values(t, m)
		if v["predictlab_queue_wait_seconds"] != 6 || v["predictlab_request_duration_seconds"] != 6 || v["predictlab_inflight_requests"] != 0 {
			t.Errorf("after the requests: %v", v)
		}
	})
}

// Workers' busy time is a counter of seconds summed over workers, so utilisation
// over an interval is its increase / (W × interval). Requests whose client left
// while queued are dropped unrun: no busy time, counted as abandoned. In a
// synctest bubble the clock is exact.
func TestWorkersBusySecondsAndAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("model")
		b := executor.NewBlocking(executor.BlockingConfig{Workers: 2, Backlog: 10, Hooks: m.Hooks()})
		defer b.Close()
		m.WatchBlocking(b)
		var wg sync.WaitGroup
		serve := func(ctx context.Context) {
			defer wg.Done()
			done, abandoned := m.RequestStarted()
			_ = b.Do(ctx, func(context.Context, executor.Runtime) { time.Sleep(time.Second) })
			if ctx.Err() != nil {
				abandoned()
				return
			}
			done(200)
		}
		for range 4 { // 4 × 1 s on 2 workers: 2 s of wall time, 4 s busy
			wg.Add(1)
			go serve(context.Background())
		}
		synctest.Wait()
		gone, leave := context.WithCancel(context.Background())
		for range 3 { // queued behind the 4, their client leaves at once
			wg.Add(1)
			go serve(gone)
		}
		synctest.Wait()
		leave()
		wg.Wait()
		v := values(t, m)
		if v["predictlab_workers_busy_seconds_total"] != 4 || v["predictlab_abandoned_requests_total"] != 3 ||
			v["predictlab_request_duration_seconds"] != 4 || v["predictlab_inflight_requests"] != 0 {
			t.Errorf("busy seconds %v (want 4), abandoned %v (want 3), answered %v (want 4), in flight %v (want 0)",
				v["predictlab_workers_busy_seconds_total"], v["predictlab_abandoned_requests_total"],
				v["predictlab_request_duration_seconds"], v["predictlab_inflight_requests"])
		}
	})
}

// TestLoopMetricsMove: callbacks on the loop feed the lag histogram and the busy
// time counter.
func TestLoopMetricsMove(t *testing.T) {
	m := New("scoring")
	l := executor.NewLoop(executor.LoopConfig{Loops: 1, Hooks: m.Hooks()})
	m.WatchLoop(l)
	for range 3 {
		_ = l.Do(context.Background(), func(_ context.Context, rt executor.Runtime) { rt.CPU(func() {}) })
	}
	l.Close()
	v := values(t, m)
	for _, name := range []string{"predictlab_loop_busy_ratio", "predictlab_loop_busy_seconds_total", "predictlab_loop_runqueue_length"} {
		if _, ok := v[name]; !ok {
			t.Errorf("%s not exported", name)
		}
	}
	if v["predictlab_loop_lag_seconds"] != 3 || v["predictlab_loop_busy_seconds_total"] <= 0 {
		t.Errorf("after 3 callbacks: lag samples %v, busy seconds %v", v["predictlab_loop_lag_seconds"], v["predictlab_loop_busy_seconds_total"])
	}
}
