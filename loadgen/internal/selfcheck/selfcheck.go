// Package selfcheck watches the load generator itself: its CPU use each second
// (from getrusage) and how far requests leave behind their schedule (actual
// start − intended start, counting only delay caused by the generator). A run
// in which the generator was saturated or late is not a valid measurement;
// the Monitor says so with Locust-style warnings and a verdict for the --json
// "self_check" object and the final summary line.
//
// Saturated means above 90% CPU in any second. Late means that more than 1%
// of the requests left more than 10 ms behind their schedule (the lag's 99th
// percentile is above 10 ms): with the services on the same small machine,
// single seconds see 10–25 ms stalls even when the generator uses 2% of a
// CPU (full lab run, 2 vCPUs: 31 such seconds in 40 minutes), so the first
// late request is warned about, but only a sustained lag decides the verdict.
//
// A user's first request has no wait before it: it leaves when the user is
// spawned, and users of one batch are spawned back to back, as in Locust.
// How late those first requests leave (the start lag) measures how fast the
// generator, and the machine it shares with the target, can open hundreds
// of connections at once, not whether it keeps a schedule; a run of 500
// users spawned at once on 2 cores saw 10–25 ms in its first second and
// 2–4 ms after it. The start lag is therefore reported (per second, in the
// verdict's figures, and as one log line) but does not by itself make a run
// invalid. Requests' times from the intended start include it either way.
//
// ObserveLag is safe for concurrent use and cheap (an atomic add and an
// atomic load in the common case); Tick and Report must be called from one
// goroutine.
package selfcheck

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"predictlab/internal/loadgenjson"
)

// Thresholds above which a run is flagged.
const (
	CPUThresholdPercent = 90
	LagThreshold        = loadgenjson.LateMS * time.Millisecond
)

// MaxTimeline bounds a timeline (a day of seconds); later seconds still
// count in the verdict but are not kept as points.
const MaxTimeline = 86400

// CPUWarning is Locust 2.12's root-logger warning, logged the first time the
// CPU threshold is crossed; CPUEndWarning is logged at test stop.
const (
	CPUWarning    = "CPU usage above 90%! This may constrain your throughput and may even give inconsistent response time measurements! See https://docs.locust.io/en/stable/running-distributed.html for how to distribute the load over multiple CPU cores or machines"
	CPUEndWarning = "CPU usage was too high at some point during the test! See https://docs.locust.io/en/stable/running-distributed.html for how to distribute the load over multiple CPU cores or machines"
)

// CPUTime returns the process's user+system CPU time so far.
type CPUTime func() (time.Duration, error)

// ProcessCPU reads the process's CPU time with getrusage(RUSAGE_SELF).
func ProcessCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("read rusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// Warner receives a warning the first time each threshold is crossed.
type Warner func(msg string)

// Monitor accumulates the self-check. Create it with New.
type Monitor struct {
	cpu  CPUTime
	warn Warner
	info Warner

	lagNS      atomic.Int64 // max schedule lag in the current second
	startLagNS atomic.Int64 // max start lag in the current second
	scheduled  atomic.Int64 // scheduled requests in the current second
	late       atomic.Int64 // of those, the late ones

	lastWall time.Time
	lastCPU  time.Duration
	report   loadgenjson.SelfCheck
	cpuHigh  bool
	lagHigh  bool
	startLog bool
	taken    int // timeline points already returned by TakeRecent
}

// New returns a monitor reading CPU time from cpu (nil = ProcessCPU) and
// calling warn (may be nil) on the first crossing of each threshold, and info
// (may be nil) the first time users start more than LagThreshold late. now
// is the start of the first one-second window.
func New(now time.Time, cpu CPUTime, warn, info Warner) *Monitor {
	if cpu == nil {
		cpu = ProcessCPU
	}
	m := &Monitor{cpu: cpu, warn: warn, info: info, lastWall: now, report: loadgenjson.SelfCheck{Valid: true, Warnings: []string{}, Timeline: []loadgenjson.Point{}}}
	m.lastCPU, _ = cpu()
	return m
}

// ObserveLag records that a request started d after the generator should
// have sent it; first marks a user's first request (its start lag).
func (m *Monitor) ObserveLag(d time.Duration, first bool) {
	if first {
		storeMax(&m.startLagNS, int64(d))
		return
	}
	m.scheduled.Add(1)
	if d > LagThreshold {
		m.late.Add(1)
	}
	storeMax(&m.lagNS, int64(d))
}

func storeMax(v *atomic.Int64, n int64) {
	for {
		cur := v.Load()
		if n <= cur || v.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Tick closes the one-second window ending at now and returns its point.
func (m *Monitor) Tick(now time.Time, users int) loadgenjson.Point {
	cpuNow, err := m.cpu()
	var pct float64
	if wall := now.Sub(m.lastWall); err == nil && wall > 0 {
		pct = float64(cpuNow-m.lastCPU) / float64(wall) * 100
	}
	if err == nil {
		m.lastCPU = cpuNow
	}
	m.lastWall = now
	lag := time.Duration(m.lagNS.Swap(0))
	startLag := time.Duration(m.startLagNS.Swap(0))
	p := loadgenjson.Point{Timestamp: now.Unix(), Users: users, CPUPercent: round1(pct), MaxLagMS: round3(lag.Seconds() * 1000),
		ScheduledRequests: m.scheduled.Swap(0), LateRequests: m.late.Swap(0),
		MaxStartLagMS: round3(startLag.Seconds() * 1000)}
	m.add(p)
	return p
}

// add folds p into the report; pure bookkeeping, used by Tick and tests.
func (m *Monitor) add(p loadgenjson.Point) {
	r := &m.report
	if len(r.Timeline) < MaxTimeline {
		r.Timeline = append(r.Timeline, p)
	}
	r.MaxCPUPercent = max(r.MaxCPUPercent, p.CPUPercent)
	r.MaxScheduleLagMS = max(r.MaxScheduleLagMS, p.MaxLagMS)
	r.MaxStartLagMS = max(r.MaxStartLagMS, p.MaxStartLagMS)
	r.ScheduledRequests += p.ScheduledRequests
	r.LateRequests += p.LateRequests
	if p.CPUPercent > CPUThresholdPercent && !m.cpuHigh {
		m.cpuHigh = true
		r.Warnings = append(r.Warnings, CPUWarning)
		if m.warn != nil {
			m.warn(CPUWarning)
		}
	}
	r.Valid = !m.cpuHigh && !loadgenjson.TooLate(r.LateRequests, r.ScheduledRequests)
	if p.MaxLagMS > float64(LagThreshold/time.Millisecond) && !m.lagHigh {
		m.lagHigh = true
		msg := fmt.Sprintf("Requests left more than %d ms behind their schedule (%.1f ms)! If more than %d%% of the requests leave that late, the load generator cannot keep up and response times and throughput of this run are not a valid measurement", LagThreshold/time.Millisecond, p.MaxLagMS, loadgenjson.LatePercent)
		r.Warnings = append(r.Warnings, msg)
		if m.warn != nil {
			m.warn(msg)
		}
	}
	if p.MaxStartLagMS > float64(LagThreshold/time.Millisecond) && !m.startLog {
		m.startLog = true
		if m.info != nil {
			m.info(fmt.Sprintf("New users' first requests left up to %.1f ms after their spawn time (the machine was busy starting users and their connections); their times from the intended start include it", p.MaxStartLagMS))
		}
	}
}

// CPUWarned reports whether the CPU threshold was crossed.
func (m *Monitor) CPUWarned() bool { return m.cpuHigh }

// Report returns a copy of the verdict so far: the --json "self_check"
// object, whose Summary is the one-line verdict printed at the end of a run.
func (m *Monitor) Report() loadgenjson.SelfCheck {
	r := m.report
	r.Warnings = append([]string{}, r.Warnings...)
	r.Timeline = append([]loadgenjson.Point{}, r.Timeline...)
	return r
}

// Verdict is Report without the warnings and the timeline: what a
// distributed worker sends with every stats report, so nothing grows with
// the run's length.
func (m *Monitor) Verdict() loadgenjson.SelfCheck {
	r := m.report
	r.Warnings, r.Timeline = nil, nil
	return r
}

// TakeRecent returns the timeline's points added since its previous call
// (all of them the first time). A distributed worker sends them with each
// stats report beside Verdict: every second reaches the master once, and
// no message grows with the run's length. Call it from Tick's goroutine.
func (m *Monitor) TakeRecent() []loadgenjson.Point {
	tl := m.report.Timeline
	out := append([]loadgenjson.Point{}, tl[m.taken:]...)
	m.taken = len(tl)
	return out
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
