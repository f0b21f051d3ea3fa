package master

import (
	"fmt"
	"sort"

	"predictlab/internal/loadgenjson"
	"predictlab/loadgen/internal/selfcheck"
)

// WorkerCheck is one worker's self-check in the current test.
type WorkerCheck struct {
	ID    string
	Index int64
	// Check is nil for a worker whose reports carry none (a Python worker).
	// Its figures are the worker's latest verdict; its Timeline holds every
	// second the worker sent in this test (each report carries those since
	// the previous one), in the order sent.
	Check *loadgenjson.SelfCheck
}

// add records a loadgen worker's self-check from one report: the verdict
// replaces the previous one, the seconds are appended (up to
// selfcheck.MaxTimeline, as one process keeps them). The caller holds the
// master's mu.
func (c *WorkerCheck) add(sc loadgenjson.SelfCheck) {
	if c.Check != nil {
		room := max(selfcheck.MaxTimeline-len(c.Check.Timeline), 0)
		// Appending may write past the end of a slice SelfCheck handed out
		// earlier; it reads only up to its own length, so both can proceed.
		sc.Timeline = append(c.Check.Timeline, sc.Timeline[:min(room, len(sc.Timeline))]...)
	}
	c.Check = &sc
}

// SelfCheck returns the run's generator self-check: the verdict of the worst
// of the master process's own (own) and the self-checks its loadgen workers
// sent with their reports in this test (workers that quit included), named
// in Worker and in a warning, and the workers' merged timeline (Timeline).
// Safe for concurrent use.
func (m *Master) SelfCheck(own loadgenjson.SelfCheck) loadgenjson.SelfCheck {
	m.mu.Lock()
	list := make([]WorkerCheck, 0, len(m.checks))
	for _, c := range m.checks {
		wc := *c
		if c.Check != nil {
			sc := *c.Check
			n := len(sc.Timeline)
			sc.Timeline = sc.Timeline[:n:n]
			wc.Check = &sc
		}
		list = append(list, wc)
	}
	m.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Index < list[j].Index })
	return Worst(own, list)
}

// Worst is SelfCheck on given worker checks (pure, for tests).
//
// The verdict is the worst generator's. The candidates are the loadgen
// workers, and the master process when its own check is not valid (it
// sends no requests, so only its CPU can fail it); the worst is an invalid
// verdict before a valid one, then the larger share of late requests, then
// the larger schedule lag, then the larger CPU; on a tie the earlier one
// stays. The result has the worst's figures, its validity (and own's: a
// master short of CPU is not valid either), and own's warnings plus one
// line naming the worst generator.
//
// The timeline is the workers' (Timeline), never the master process's: its
// idle CPU and empty schedule would read as a generator that had nothing
// to do. TimelineSource is loadgenjson.TimelineWorkers (with no report yet
// the timeline is empty), or loadgenjson.TimelineNone when no worker sent a
// self-check (Python workers only): then the verdict's figures are the
// master process's own, and its warning says so.
func Worst(own loadgenjson.SelfCheck, workers []WorkerCheck) loadgenjson.SelfCheck {
	out := own
	out.Timeline = Timeline(workers)
	out.TimelineSource = loadgenjson.TimelineWorkers
	if len(workers) == 0 {
		return out
	}
	var worst *loadgenjson.SelfCheck
	name, checked := "", 0
	for _, w := range workers {
		if w.Check == nil {
			continue
		}
		checked++
		if worst == nil || worse(*w.Check, *worst) {
			worst, name = w.Check, fmt.Sprintf("%s (index %d)", w.ID, w.Index)
		}
	}
	var msg string
	switch {
	case checked == 0:
		out.TimelineSource = loadgenjson.TimelineNone
		msg = "No worker sent a self-check (Python workers send none): the verdict is the master process's own, the workers' generators are not checked, and there is no timeline"
	case !own.Valid && worse(own, *worst):
		msg = fmt.Sprintf("The verdict is the worst generator's: the master process itself, of it and %d loadgen workers (the timeline shows the workers)", checked)
	default:
		out.MaxCPUPercent, out.MaxScheduleLagMS, out.MaxStartLagMS = worst.MaxCPUPercent, worst.MaxScheduleLagMS, worst.MaxStartLagMS
		out.ScheduledRequests, out.LateRequests = worst.ScheduledRequests, worst.LateRequests
		out.Valid = worst.Valid && own.Valid
		out.Worker = name
		msg = fmt.Sprintf("The verdict is the worst generator's: worker %s, of %d loadgen workers and the master process", name, checked)
		// Each second's point is the highest of any worker, so the chart
		// may peak above the worst worker's figures: say why.
		cpu, lag := peaks(out.Timeline)
		if cpu > out.MaxCPUPercent || lag > out.MaxScheduleLagMS {
			msg += fmt.Sprintf("; the timeline shows each second's highest of all workers, up to %.1f%% CPU and %.1f ms schedule lag", cpu, lag)
		}
	}
	if n := len(workers) - checked; n > 0 && checked > 0 {
		msg += fmt.Sprintf("; %d workers sent none (Python workers), their generators are not checked", n)
	}
	out.Warnings = append(append([]string{}, own.Warnings...), msg)
	return out
}

// worse reports whether a is a worse verdict than b.
func worse(a, b loadgenjson.SelfCheck) bool {
	if a.Valid != b.Valid {
		return !a.Valid
	}
	if la, lb := lateShare(a.LateRequests, a.ScheduledRequests), lateShare(b.LateRequests, b.ScheduledRequests); la != lb {
		return la > lb
	}
	if a.MaxScheduleLagMS != b.MaxScheduleLagMS {
		return a.MaxScheduleLagMS > b.MaxScheduleLagMS
	}
	return a.MaxCPUPercent > b.MaxCPUPercent
}

// lateShare is the fraction of scheduled requests that left late.
func lateShare(late, scheduled int64) float64 {
	if scheduled <= 0 {
		return 0
	}
	return float64(late) / float64(scheduled)
}

// Timeline merges the workers' self-check seconds into the run's, one point
// per second that any worker sampled, in time order. A point has the
// highest CPU, schedule lag and start lag of any worker in that second
// (each worker measures its own process, so the worst one is what could
// have distorted the measurement), the scheduled and late requests of the
// worker with the largest late share (on a tie, the most scheduled), so
// that a second is flagged late exactly when some worker was late in it,
// and the users of all workers. A worker that sampled one second twice
// (its one-second ticker drifting across a second's boundary) counts once;
// one whose ticker skipped a second between two samples counts with its
// previous users.
//
// Seconds are the workers' clocks, not the times the master received the
// reports: a worker samples each second as it ends, and its report carries
// the last three, so a receipt time would shift them by up to a report
// interval and lump three into one, hiding when a stall happened. The
// workers' clocks are also the ones Locust's protocol already uses for the
// requests per second (num_reqs_per_sec) from which the master computes
// its current rate. On one machine (the lab's --loadgen-workers) they are
// the master's clock, so the lab's comparison of flagged seconds with the
// master's history holds exactly; across machines it is off by the
// clocks' skew, as the request counts are.
func Timeline(workers []WorkerCheck) []loadgenjson.Point {
	var all []*series
	seconds := map[int64]bool{}
	for _, w := range workers {
		if w.Check == nil || len(w.Check.Timeline) == 0 {
			continue
		}
		pts := append([]loadgenjson.Point{}, w.Check.Timeline...)
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].Timestamp < pts[j].Timestamp })
		all = append(all, &series{points: pts})
		for _, p := range pts {
			seconds[p.Timestamp] = true
		}
	}
	order := make([]int64, 0, len(seconds))
	for s := range seconds {
		order = append(order, s)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	out := make([]loadgenjson.Point, 0, len(order))
	for _, sec := range order {
		pt := loadgenjson.Point{Timestamp: sec}
		lateSet := false
		for _, s := range all {
			p, ok := s.take(sec)
			switch {
			case ok:
				pt.Users += p.Users
				pt.CPUPercent = max(pt.CPUPercent, p.CPUPercent)
				pt.MaxLagMS = max(pt.MaxLagMS, p.MaxLagMS)
				pt.MaxStartLagMS = max(pt.MaxStartLagMS, p.MaxStartLagMS)
				if !lateSet || lateWorse(p, pt) {
					pt.ScheduledRequests, pt.LateRequests = p.ScheduledRequests, p.LateRequests
					lateSet = true
				}
			case s.next > 0 && s.next < len(s.points):
				pt.Users += s.users // a skipped second of a worker still sampling
			}
		}
		out = append(out, pt)
	}
	return out
}

// series is one worker's seconds while Timeline merges them.
type series struct {
	points []loadgenjson.Point // sorted by time
	next   int                 // first point not merged yet
	users  int                 // the users of the last merged second
}

// take folds the series' points of second sec (usually one; two when the
// worker's ticker drifted across a second's boundary: the highest CPU and
// lags, the sum of the requests, the later users) and moves past them. ok
// is false when the worker did not sample sec. Timeline visits seconds in
// order, so every earlier point is merged already.
func (s *series) take(sec int64) (p loadgenjson.Point, ok bool) {
	for s.next < len(s.points) && s.points[s.next].Timestamp == sec {
		q := s.points[s.next]
		if !ok {
			p, ok = q, true
		} else {
			p.Users = q.Users
			p.CPUPercent = max(p.CPUPercent, q.CPUPercent)
			p.MaxLagMS = max(p.MaxLagMS, q.MaxLagMS)
			p.MaxStartLagMS = max(p.MaxStartLagMS, q.MaxStartLagMS)
			p.ScheduledRequests += q.ScheduledRequests
			p.LateRequests += q.LateRequests
		}
		s.next++
	}
	if ok {
		s.users = p.Users
	}
	return p, ok
}

// lateWorse reports whether second a had a larger share of late requests
// than b, or the same share of more scheduled requests.
func lateWorse(a, b loadgenjson.Point) bool {
	la, lb := lateShare(a.LateRequests, a.ScheduledRequests), lateShare(b.LateRequests, b.ScheduledRequests)
	if la != lb {
		return la > lb
	}
	return a.ScheduledRequests > b.ScheduledRequests
}

// peaks returns the highest CPU and schedule lag of a timeline.
func peaks(tl []loadgenjson.Point) (cpu, lag float64) {
	for _, p := range tl {
		cpu, lag = max(cpu, p.CPUPercent), max(lag, p.MaxLagMS)
	}
	return cpu, lag
}
