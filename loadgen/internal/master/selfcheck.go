package master

import (
	"fmt"
	"sort"

	"predictlab/internal/loadgenjson"
)

// WorkerCheck is one worker's latest self-check in the current test.
type WorkerCheck struct {
	ID    string
	Index int64
	// Check is nil for a worker whose reports carry none (a Python worker).
	Check *loadgenjson.SelfCheck
}

// SelfCheck returns the run's generator self-check: the worst of the master
// process's own (own) and the self-checks its loadgen workers sent with
// their reports in this test (workers that quit included), named in Worker
// and in a warning. Safe for concurrent use.
func (m *Master) SelfCheck(own loadgenjson.SelfCheck) loadgenjson.SelfCheck {
	m.mu.Lock()
	list := make([]WorkerCheck, 0, len(m.checks))
	for _, c := range m.checks {
		list = append(list, *c)
	}
	m.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Index < list[j].Index })
	return Worst(own, list)
}

// Worst is SelfCheck on given worker checks (pure, for tests). The worst
// verdict is an invalid one before a valid one, then the larger share of
// late requests, then the larger schedule lag, then the larger CPU; on a
// tie the earlier one stays. The result has the worst's validity (and own's:
// a master short of CPU is not valid either) and figures, own's timeline
// (the master process's) and own's warnings plus one line naming the worst
// generator. With no worker reports it is own.
func Worst(own loadgenjson.SelfCheck, workers []WorkerCheck) loadgenjson.SelfCheck {
	if len(workers) == 0 {
		return own
	}
	worst, name, checked := own, "", 0
	for _, w := range workers {
		if w.Check == nil {
			continue
		}
		checked++
		if worse(*w.Check, worst) {
			worst, name = *w.Check, fmt.Sprintf("%s (index %d)", w.ID, w.Index)
		}
	}
	out := own
	out.MaxCPUPercent, out.MaxScheduleLagMS, out.MaxStartLagMS = worst.MaxCPUPercent, worst.MaxScheduleLagMS, worst.MaxStartLagMS
	out.ScheduledRequests, out.LateRequests = worst.ScheduledRequests, worst.LateRequests
	out.Valid = worst.Valid && own.Valid
	out.Worker = name
	var msg string
	switch {
	case checked == 0:
		msg = "No worker sent a self-check (Python workers send none): the verdict is the master process's own, the workers' generators are not checked"
	case name == "":
		msg = fmt.Sprintf("The verdict is the worst generator's: the master process itself, of it and %d loadgen workers", checked)
	default:
		msg = fmt.Sprintf("The verdict is the worst generator's: worker %s, of %d loadgen workers and the master process", name, checked)
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
	if la, lb := lateShare(a), lateShare(b); la != lb {
		return la > lb
	}
	if a.MaxScheduleLagMS != b.MaxScheduleLagMS {
		return a.MaxScheduleLagMS > b.MaxScheduleLagMS
	}
	return a.MaxCPUPercent > b.MaxCPUPercent
}

// lateShare is the fraction of scheduled requests that left late.
func lateShare(s loadgenjson.SelfCheck) float64 {
	if s.ScheduledRequests <= 0 {
		return 0
	}
	return float64(s.LateRequests) / float64(s.ScheduledRequests)
}
