package selfcheck

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"predictlab/internal/loadgenjson"
)

func TestMonitor(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1795761380, 0)
	cpu := time.Duration(0)
	var warned, infos []string
	m := New(t0, func() (time.Duration, error) { return cpu, nil }, func(s string) { warned = append(warned, s) },
		func(s string) { infos = append(infos, s) })

	cpu = 300 * time.Millisecond // 30% of the first second
	m.ObserveLag(2*time.Millisecond, false)
	m.ObserveLag(1*time.Millisecond, false)
	// 500 users spawned at once: their first requests leave late, which is
	// reported but is no schedule lag.
	m.ObserveLag(25*time.Millisecond, true)
	m.ObserveLag(12*time.Millisecond, true)
	p := m.Tick(t0.Add(time.Second), 10)
	if p.CPUPercent != 30 || p.MaxLagMS != 2 || p.MaxStartLagMS != 25 || p.Users != 10 || p.Timestamp != 1795761381 {
		t.Fatalf("point = %+v", p)
	}
	if r := m.Report(); !r.Valid || len(warned) != 0 || r.MaxStartLagMS != 25 ||
		r.Summary() != "Self-check: valid measurement (generator CPU max 30.0%, schedule lag max 2.0 ms, first requests up to 25.0 ms after their user's spawn)" {
		t.Fatalf("report = %+v, summary %q", r, r.Summary())
	}
	if len(infos) != 1 || !strings.Contains(infos[0], "first requests left up to 25.0 ms after their spawn time") {
		t.Fatalf("infos = %q", infos)
	}

	cpu += 950 * time.Millisecond
	m.ObserveLag(15*time.Millisecond, false)
	m.ObserveLag(30*time.Millisecond, true) // logged once only
	m.Tick(t0.Add(2*time.Second), 10)
	cpu += 990 * time.Millisecond
	m.ObserveLag(20*time.Millisecond, false)
	m.Tick(t0.Add(3*time.Second), 10)
	r := m.Report()
	if r.Valid || len(r.Warnings) != 2 || len(warned) != 2 || len(infos) != 1 || r.MaxCPUPercent != 99 ||
		r.MaxScheduleLagMS != 20 || r.MaxStartLagMS != 30 || len(r.Timeline) != 3 {
		t.Fatalf("report = %+v warned=%q", r, warned)
	}
	if !m.CPUWarned() || !strings.Contains(r.Summary(), "NOT a valid") {
		t.Fatal("verdict")
	}
	// Verdict: the same figures, without what grows with the run.
	v := m.Verdict()
	if v.Warnings != nil || v.Timeline != nil {
		t.Errorf("Verdict carries warnings %q or a timeline of %d", v.Warnings, len(v.Timeline))
	}
	v.Warnings, v.Timeline = r.Warnings, r.Timeline
	if !reflect.DeepEqual(v, r) {
		t.Errorf("Verdict %+v, Report %+v", v, r)
	}
	if c, err := ProcessCPU(); err != nil || c < 0 {
		t.Fatalf("ProcessCPU = %v, %v", c, err)
	}
}

// One stall that delays a few requests is warned about but leaves the run
// valid; more than 1% of requests late makes it invalid.
func TestMonitorLateShare(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1795761380, 0)
	var warned []string
	m := New(t0, func() (time.Duration, error) { return 0, nil }, func(s string) { warned = append(warned, s) }, nil)
	second := func(i, n, late int, lag time.Duration) {
		for range n - late {
			m.ObserveLag(time.Millisecond, false)
		}
		for range late {
			m.ObserveLag(lag, false)
		}
		m.Tick(t0.Add(time.Duration(i)*time.Second), 100)
	}
	second(1, 100, 0, 0)
	second(2, 100, 2, 25*time.Millisecond) // a 25 ms stall: 2 of 200 so far = 1%
	r := m.Report()
	if !r.Valid || r.ScheduledRequests != 200 || r.LateRequests != 2 || r.MaxScheduleLagMS != 25 || len(warned) != 1 {
		t.Fatalf("after one stall: report %+v, warned %q", r, warned)
	}
	if p := r.Timeline[1]; p.ScheduledRequests != 100 || p.LateRequests != 2 {
		t.Fatalf("second 2: %+v", p)
	}
	if want := "Self-check: valid measurement (generator CPU max 0.0%, schedule lag max 25.0 ms, 2 of 200 requests (1.00%) more than 10 ms late)"; r.Summary() != want {
		t.Fatalf("summary %q, want %q", r.Summary(), want)
	}
	second(3, 100, 2, 12*time.Millisecond) // 4 of 300: 1.33%
	if r := m.Report(); r.Valid || len(warned) != 1 || !strings.HasPrefix(r.Summary(), "Self-check: NOT a valid measurement") {
		t.Fatalf("after 1.33%% late: report %+v, warned %q", r, warned)
	}
	m.ObserveLag(time.Second, true) // a first request: start lag, not counted
	second(4, 500, 0, 0)            // 4 of 800: 0.5%
	if r := m.Report(); !r.Valid || r.ScheduledRequests != 800 {
		t.Fatalf("after 0.5%% late: report %+v", r)
	}
}

// TakeRecent hands out each second once, in order: what a worker sends
// with each report.
func TestTakeRecent(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1795761380, 0)
	m := New(t0, func() (time.Duration, error) { return 0, nil }, nil, nil)
	if got := m.TakeRecent(); len(got) != 0 {
		t.Fatalf("before any tick: %+v", got)
	}
	stamps := func(ps []loadgenjson.Point) []int64 {
		out := []int64{}
		for _, p := range ps {
			out = append(out, p.Timestamp)
		}
		return out
	}
	for i := 1; i <= 3; i++ {
		m.Tick(t0.Add(time.Duration(i)*time.Second), i)
	}
	if got := stamps(m.TakeRecent()); !reflect.DeepEqual(got, []int64{1795761381, 1795761382, 1795761383}) {
		t.Fatalf("first report's seconds %v", got)
	}
	if got := m.TakeRecent(); len(got) != 0 {
		t.Fatalf("nothing new, got %+v", got)
	}
	m.Tick(t0.Add(4*time.Second), 4)
	if got := m.TakeRecent(); len(got) != 1 || got[0].Timestamp != 1795761384 || got[0].Users != 4 {
		t.Fatalf("second report %+v", got)
	}
	if n := len(m.Report().Timeline); n != 4 {
		t.Errorf("TakeRecent changed the report's timeline: %d points", n)
	}
}
