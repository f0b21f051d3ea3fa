package master

import (
	"strings"
	"testing"

	"predictlab/internal/loadgenjson"
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
	}{
		{name: "no workers", own: own, valid: true, cpu: 3},
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
			valid: true, cpu: 3, inWarning: "No worker sent a self-check"},
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
			if len(got.Timeline) != len(tc.own.Timeline) {
				t.Errorf("timeline %v, want the master's own", got.Timeline)
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
