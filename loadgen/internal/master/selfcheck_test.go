package master

import (
	"cmp"
	"reflect"
	"strings"
	"testing"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/locustproto"
	"predictlab/loadgen/internal/locuststats"
)

// The run's self-check is the worst generator's, named, on fixed data.
func TestWorst(t *testing.T) {
	t.Parallel()
	own := loadgenjson.SelfCheck{Valid: true, MaxCPUPercent: 3, Warnings: []string{}, Timeline: []loadgenjson.Point{{Timestamp: 1, CPUPercent: 3}}}
	ok := func(cpu, lag float64, sched, late int64) *loadgenjson.SelfCheck {
		return &loadgenjson.SelfCheck{Valid: !loadgenjson.TooLate(late, sched) && cpu <= 90, MaxCPUPercent: cpu, MaxScheduleLagMS: lag,
			ScheduledRequests: sched, LateRequests: late}
	}
	for _, tc := range []struct {
		name      string
		own       loadgenjson.SelfCheck
		workers   []WorkerCheck
		valid     bool
		worker    string
		cpu, lag  float64
		late      int64
		inWarning string
		source    string
	}{
		{name: "no workers", own: own, valid: true, cpu: 3, source: loadgenjson.TimelineWorkers},
		{name: "two valid loadgen workers: the one with more late requests", own: own, workers: []WorkerCheck{
			{ID: "a", Index: 0, Check: ok(20, 30, 1000, 5)}, {ID: "b", Index: 1, Check: ok(40, 12, 1000, 8)}},
			valid: true, worker: "b (index 1)", cpu: 40, lag: 12, late: 8, inWarning: "worker b (index 1), of 2 loadgen workers"},
		{name: "an invalid worker beats a valid one with more lag", own: own, workers: []WorkerCheck{
			{ID: "a", Index: 0, Check: ok(95, 2, 1000, 0)}, {ID: "b", Index: 1, Check: ok(40, 300, 1000, 9)}},
			valid: false, worker: "a (index 0)", cpu: 95, lag: 2, inWarning: "worker a (index 0)"},
		{name: "equal late shares: the larger lag", own: own, workers: []WorkerCheck{
			{ID: "a", Index: 0, Check: ok(10, 4, 100, 0)}, {ID: "b", Index: 1, Check: ok(10, 6, 100, 0)}},
			valid: true, worker: "b (index 1)", cpu: 10, lag: 6},
		{name: "a Python worker in the mix is not checked", own: own, workers: []WorkerCheck{
			{ID: "a", Index: 0, Check: ok(10, 4, 100, 1)}, {ID: "py", Index: 1}},
			valid: true, worker: "a (index 0)", cpu: 10, lag: 4, late: 1, inWarning: "1 workers sent none (Python workers)"},
		{name: "Python workers only: the master's own", own: own, workers: []WorkerCheck{{ID: "py", Index: 0}, {ID: "py2", Index: 1}},
			valid: true, cpu: 3, inWarning: "No worker sent a self-check", source: loadgenjson.TimelineNone},
		{name: "a master short of CPU is not valid", own: loadgenjson.SelfCheck{Valid: false, MaxCPUPercent: 99, Warnings: []string{"cpu"}},
			workers: []WorkerCheck{{ID: "a", Index: 0, Check: ok(10, 4, 100, 0)}},
			valid:   false, cpu: 99, inWarning: "the master process itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Worst(tc.own, tc.workers)
			if got.Valid != tc.valid || got.Worker != tc.worker || got.MaxCPUPercent != tc.cpu || got.MaxScheduleLagMS != tc.lag || got.LateRequests != tc.late {
				t.Errorf("got valid=%v worker=%q cpu=%v lag=%v late=%d; want %v %q %v %v %d",
					got.Valid, got.Worker, got.MaxCPUPercent, got.MaxScheduleLagMS, got.LateRequests, tc.valid, tc.worker, tc.cpu, tc.lag, tc.late)
			}
			if len(got.Timeline) != 0 {
				t.Errorf("timeline %v, want none: the master's own is not the generators', and these workers sent no seconds", got.Timeline)
			}
			if want := cmp.Or(tc.source, loadgenjson.TimelineWorkers); got.TimelineSource != want {
				t.Errorf("timeline source %q, want %q", got.TimelineSource, want)
			}
			joined := strings.Join(got.Warnings, "\n")
			if tc.inWarning != "" && !strings.Contains(joined, tc.inWarning) {
				t.Errorf("warnings %q lack %q", got.Warnings, tc.inWarning)
			}
			if tc.worker != "" && !strings.Contains(got.Summary(), "worst worker "+tc.worker+": ") {
				t.Errorf("summary %q does not name the worker", got.Summary())
			}
			if len(tc.workers) == 0 && len(got.Warnings) != len(tc.own.Warnings) {
				t.Errorf("a run without workers got warnings %q", got.Warnings)
			}
		})
	}
}

// A new test forgets the previous one's worker self-checks and whether its
// percentiles came from Locust's buckets.
func TestNewTestForgets(t *testing.T) {
	t.Parallel()
	m := &Master{bucketed: true, checks: map[string]*WorkerCheck{"a": {ID: "a", Check: &loadgenjson.SelfCheck{}}}}
	m.newTestLocked()
	if !m.Exact() || len(m.checks) != 0 {
		t.Errorf("after a new test: exact %v, %d checks", m.Exact(), len(m.checks))
	}
	if sc := m.SelfCheck(loadgenjson.SelfCheck{Valid: true}); sc.Worker != "" || len(sc.Warnings) != 0 {
		t.Errorf("self-check %+v, want the master's own", sc)
	}
}

// Two loadgen workers, one of them late in its second second: the merged
// timeline has each second's worst (highest CPU and lag, the late worker's
// requests) and all users, and the verdict names the same worker.
func TestWorstMergesWorkerTimelines(t *testing.T) {
	t.Parallel()
	const t0 = 1795761380
	pt := func(sec int64, users int, cpu, lag float64, sched, late int64) loadgenjson.Point {
		return loadgenjson.Point{Timestamp: t0 + sec, Users: users, CPUPercent: cpu, MaxLagMS: lag, ScheduledRequests: sched, LateRequests: late}
	}
	fast := &loadgenjson.SelfCheck{Valid: true, MaxCPUPercent: 30, MaxScheduleLagMS: 2, ScheduledRequests: 300, Timeline: []loadgenjson.Point{
		pt(1, 10, 20, 1, 100, 0), pt(2, 10, 30, 2, 100, 0), pt(3, 10, 25, 1.5, 100, 0)}}
	late := &loadgenjson.SelfCheck{Valid: false, MaxCPUPercent: 12, MaxScheduleLagMS: 40, ScheduledRequests: 300, LateRequests: 9, Timeline: []loadgenjson.Point{
		pt(1, 10, 10, 1, 100, 0), pt(2, 10, 12, 40, 100, 9), pt(3, 10, 11, 3, 100, 0)}}
	own := loadgenjson.SelfCheck{Valid: true, MaxCPUPercent: 1, Warnings: []string{}, Timeline: []loadgenjson.Point{pt(1, 20, 1, 0, 0, 0)}}
	got := Worst(own, []WorkerCheck{{ID: "fast", Index: 0, Check: fast}, {ID: "late", Index: 1, Check: late}})

	want := []loadgenjson.Point{pt(1, 20, 20, 1, 100, 0), pt(2, 20, 30, 40, 100, 9), pt(3, 20, 25, 3, 100, 0)}
	if !reflect.DeepEqual(got.Timeline, want) {
		t.Errorf("timeline\n%+v\nwant\n%+v", got.Timeline, want)
	}
	if got.Valid || got.Worker != "late (index 1)" || got.LateRequests != 9 || got.MaxScheduleLagMS != 40 || got.TimelineSource != loadgenjson.TimelineWorkers {
		t.Errorf("verdict %+v, want the late worker's", got)
	}
	// The verdict's CPU is the late worker's 12 %; the chart peaks at the
	// other's 30 %, and the warning says why.
	if w := got.Warnings[len(got.Warnings)-1]; !strings.Contains(w, "worker late (index 1), of 2 loadgen workers") ||
		!strings.Contains(w, "each second's highest of all workers, up to 30.0% CPU and 40.0 ms") {
		t.Errorf("warning %q", w)
	}
	// Every second the late worker was flagged in is flagged in the merge.
	for i, p := range got.Timeline {
		if loadgenjson.TooLate(late.Timeline[i].LateRequests, late.Timeline[i].ScheduledRequests) != loadgenjson.TooLate(p.LateRequests, p.ScheduledRequests) {
			t.Errorf("second %d: merged %+v, late worker %+v", i+1, p, late.Timeline[i])
		}
	}
}

// Workers' tickers drift: a worker that sampled one second twice counts
// once, one that skipped a second keeps its users there, seconds arrive
// out of order, and a worker that stopped early no longer counts.
func TestTimelineTickerDrift(t *testing.T) {
	t.Parallel()
	p := func(sec int64, users int, cpu float64, sched, late int64) loadgenjson.Point {
		return loadgenjson.Point{Timestamp: sec, Users: users, CPUPercent: cpu, ScheduledRequests: sched, LateRequests: late}
	}
	a := &loadgenjson.SelfCheck{Timeline: []loadgenjson.Point{p(1, 5, 10, 50, 0), p(2, 5, 12, 30, 1), p(2, 6, 40, 20, 0), p(3, 6, 10, 60, 0)}}
	b := &loadgenjson.SelfCheck{Timeline: []loadgenjson.Point{p(3, 7, 5, 70, 0), p(1, 7, 5, 70, 0), p(4, 7, 5, 70, 0)}}
	got := Timeline([]WorkerCheck{{ID: "a", Check: a}, {ID: "py"}, {ID: "b", Index: 2, Check: b}})
	want := []loadgenjson.Point{
		p(1, 12, 10, 70, 0),
		p(2, 13, 40, 50, 1), // a twice (its later users, 1 of 50 late), b skipped it: still 7 users
		p(3, 13, 10, 70, 0),
		p(4, 7, 5, 70, 0), // a stopped
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeline\n%+v\nwant\n%+v", got, want)
	}
}

// A worker's reports add up: its latest verdict, and every second sent.
func TestWorkerCheckAdd(t *testing.T) {
	t.Parallel()
	var c WorkerCheck
	c.add(loadgenjson.SelfCheck{Valid: true, ScheduledRequests: 10, Timeline: []loadgenjson.Point{{Timestamp: 1}, {Timestamp: 2}}})
	c.add(loadgenjson.SelfCheck{Valid: false, ScheduledRequests: 20, Timeline: []loadgenjson.Point{{Timestamp: 3}}})
	c.add(loadgenjson.SelfCheck{Valid: false, ScheduledRequests: 25, Timeline: []loadgenjson.Point{}})
	var secs []int64
	for _, p := range c.Check.Timeline {
		secs = append(secs, p.Timestamp)
	}
	if c.Check.Valid || c.Check.ScheduledRequests != 25 || !reflect.DeepEqual(secs, []int64{1, 2, 3}) {
		t.Errorf("check %+v, seconds %v", c.Check, secs)
	}
}

// Reports of workers without users (a loadgen worker before its first
// spawn, as a web UI master sees between tests) do not count as Python
// workers' unchecked generators; once users run, a report without a
// self-check does.
func TestIdleWorkerReports(t *testing.T) {
	t.Parallel()
	m := &Master{workers: map[string]*Worker{"lg": {ID: "lg"}, "py": {ID: "py", Index: 1}},
		checks: map[string]*WorkerCheck{}, changed: make(chan struct{})}
	report := func(id string, users int64, check bool) {
		data := locustproto.Map{{Key: "user_count", Value: users}}
		if check {
			data = append(data, locustproto.KV{Key: locuststats.SelfCheckKey, Value: locuststats.EncodeSelfCheck(loadgenjson.SelfCheck{Valid: true, ScheduledRequests: 10})})
		}
		m.handle(id, locustproto.Message{Type: locustproto.TypeStats, NodeID: id, Data: data})
	}
	own := loadgenjson.SelfCheck{Valid: true}
	report("lg", 0, false)
	report("py", 0, false)
	if sc := m.SelfCheck(own); len(sc.Warnings) != 0 || sc.TimelineSource != loadgenjson.TimelineWorkers {
		t.Errorf("idle workers' reports gave %+v, want no verdict from them", sc)
	}
	report("lg", 5, true)
	report("py", 5, false)
	sc := m.SelfCheck(own)
	if sc.Worker != "lg (index 0)" || len(sc.Warnings) != 1 || !strings.Contains(sc.Warnings[0], "1 workers sent none") {
		t.Errorf("running workers' reports gave %+v", sc)
	}
}
