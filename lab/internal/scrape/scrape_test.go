package scrape

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"predictlab/internal/targetsapi"
)

const exposition = `# HELP predictlab_workers_busy Workers busy.
# TYPE predictlab_workers_busy gauge
predictlab_workers_busy{service="scoring"} 5
predictlab_workers_total 8
predictlab_queue_length 12
predictlab_loop_lag_seconds_bucket{le="0.005"} 3
predictlab_loop_lag_seconds_sum 0.25
predictlab_loop_lag_seconds_count 10
predictlab_request_duration_seconds_count{route="/api/v1/ml/sync/predict",code="200"} 100
predictlab_request_duration_seconds_count{route="/x",code="404"} 2
go_info{version="go1.26 {odd}"} 1
bad_line
nan_metric NaN
`

func TestParse(t *testing.T) {
	t.Parallel()
	m, err := Parse(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want float64
	}{
		{targetsapi.MetricWorkersBusy, 5}, {targetsapi.MetricWorkersTotal, 8}, {targetsapi.MetricQueueLength, 12}, {loopLagSum, 0.25}, {loopLagCount, 10},
		{RequestsCount, 102}, {"go_info", 1},
	}
	for _, tc := range tests {
		if got := m[tc.name]; got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, absent := range []string{"predictlab_loop_lag_seconds_bucket", "bad_line", "nan_metric"} {
		if _, ok := m[absent]; ok {
			t.Errorf("%s should be skipped", absent)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(exposition)
	f.Add(`a{b="}"} 1`)
	f.Add("x 1 123\n{")
	f.Fuzz(func(t *testing.T, s string) {
		m, _ := Parse(strings.NewReader(s))
		for k, v := range m {
			if math.IsNaN(v) {
				t.Errorf("%s is NaN", k)
			}
		}
	})
}

func TestSeries(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	samples := []Sample{
		{Time: t0, Values: map[string]float64{targetsapi.MetricLoopBusySeconds: 1, RequestsCount: 100, targetsapi.MetricLoopBusyRatio: 0.1, loopLagSum: 0, loopLagCount: 0}},
		{Time: t0.Add(time.Second), Values: map[string]float64{targetsapi.MetricLoopBusySeconds: 1.75, RequestsCount: 200, targetsapi.MetricLoopBusyRatio: 0.75, loopLagSum: 0.02, loopLagCount: 10}},
	}
	s := Series(samples)
	if len(s) != 1 {
		t.Fatalf("got %d points, want 1", len(s))
	}
	p := s[0]
	if p.RPS != 100 || math.Abs(float64(p.LoopCPUPerReqMS)-7.5) > 1e-9 || p.LoopBusy != 0.75 || math.Abs(float64(p.LoopLagMS)-2) > 1e-9 {
		t.Errorf("got %+v", p)
	}
	if !math.IsNaN(float64(p.WorkersBusy)) {
		t.Errorf("workers busy = %v, want NaN for an event loop", p.WorkersBusy)
	}
	if d := Delta(samples, RequestsCount); d != 100 {
		t.Errorf("delta = %v, want 100", d)
	}
	if !math.IsNaN(float64(p.WorkersUtil)) || !math.IsNaN(float64(p.ServiceMS)) {
		t.Errorf("an event loop has no pool utilisation or queue wait: %+v", p)
	}
}

func TestSeriesBlocking(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	samples := []Sample{
		{Time: t0, Values: map[string]float64{targetsapi.MetricWorkersTotal: 8, targetsapi.MetricWorkersBusySeconds: 10,
			RequestsCount: 100, requestsSum: 10, queueWaitSum: 1, queueWaitCount: 100}},
		{Time: t0.Add(2 * time.Second), Values: map[string]float64{targetsapi.MetricWorkersTotal: 8, targetsapi.MetricWorkersBusySeconds: 22,
			RequestsCount: 200, requestsSum: 25, queueWaitSum: 6, queueWaitCount: 200}},
	}
	s := Series(samples)
	if len(s) != 1 {
		t.Fatalf("got %d points", len(s))
	}
	// 12 busy seconds over 8 workers × 2 s; 100 answers taking 15 s in all,
	// 5 s of it waiting for a worker.
	p := s[0]
	if math.Abs(float64(p.WorkersUtil)-0.75) > 1e-9 || math.Abs(float64(p.ServerMS)-150) > 1e-9 ||
		math.Abs(float64(p.QueueWaitMS)-50) > 1e-9 || math.Abs(float64(p.ServiceMS)-100) > 1e-9 {
		t.Errorf("got %+v; want utilisation 0.75, server 150 ms, queue wait 50 ms, service 100 ms", p)
	}
}

func TestScraperRun(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %d\n", RequestsCount, n.Add(1))
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []Sample)
	// The default client times a scrape out after one interval (10 ms here), which a busy
	// machine exceeds: a scrape the server counted would then be missing from the samples.
	client := &http.Client{Timeout: time.Minute}
	go func() {
		done <- Scraper{Service: "x", URL: srv.URL, Interval: 10 * time.Millisecond, Client: client}.Run(ctx)
	}()
	for n.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	samples := <-done
	// The third scrape may be cut short by the cancel; two had finished.
	if len(samples) < 2 {
		t.Errorf("got %d samples, want ≥ 2", len(samples))
	}
	for i := 1; i < len(samples); i++ {
		if samples[i].Values[RequestsCount] <= samples[i-1].Values[RequestsCount] {
			t.Errorf("samples out of order: %v", samples)
		}
	}
}
