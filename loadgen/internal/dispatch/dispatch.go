// Package dispatch spreads a test's users over a master's workers as Locust
// 2.12.1's UsersDispatcher does (locust/dispatch.py): workers sorted so that
// consecutive users land on different hosts first (a worker id's prefix
// before "_" names its host), classes picked by the same smooth weighted
// round robin as a single process (users.Dispatch), each dispatch iteration
// adding or removing max(1, floor(rate)) users, and a rebalance when a
// worker joins or leaves. Each iteration is the absolute number of users
// per class that every worker should run, which is what a master sends in
// its spawn messages.
//
// A Dispatcher is not safe for concurrent use; the master's loop owns it.
package dispatch

import (
	"math"
	"sort"
	"strings"
	"time"

	"predictlab/loadgen/internal/users"
)

// Distribution is the users per class of every worker (worker id → class
// name → users). Every worker lists every class, zeros included.
type Distribution map[string]map[string]int

type placement struct {
	worker string
	class  int
}

// Dispatcher is one master's dispatcher. Create it with New.
type Dispatcher struct {
	classes []users.Class
	order   []int // users.Dispatch's cycle: indexes into classes
	workers []string

	users   Distribution
	initial Distribution
	active  []placement
	cur     int
	target  int
	perIter int
	wait    time.Duration

	userPos, workerPos int

	// The generator's state: see Next.
	started, afterYield, rebalance, done bool
}

// New returns a dispatcher for workers (ids) and the test's classes.
func New(workers []string, classes []users.Class) *Dispatcher {
	d := &Dispatcher{classes: classes, order: users.Dispatch(classes), done: true}
	d.workers = sortWorkers(workers)
	d.users = d.empty()
	return d
}

// sortWorkers orders ids by (index within their host, id), as
// UsersDispatcher._sort_workers.
func sortWorkers(ids []string) []string {
	byID := append([]string(nil), ids...)
	sort.Strings(byID)
	within := map[string]int{}
	perHost := map[string]int{}
	for _, id := range byID {
		host, _, _ := strings.Cut(id, "_")
		within[id] = perHost[host]
		perHost[host]++
	}
	sort.SliceStable(byID, func(i, j int) bool {
		if within[byID[i]] != within[byID[j]] {
			return within[byID[i]] < within[byID[j]]
		}
		return byID[i] < byID[j]
	})
	return byID
}

func (d *Dispatcher) empty() Distribution {
	out := make(Distribution, len(d.workers))
	for _, w := range d.workers {
		m := make(map[string]int, len(d.classes))
		for _, c := range d.classes {
			m[c.Name] = 0
		}
		out[w] = m
	}
	return out
}

func (dist Distribution) clone() Distribution {
	out := make(Distribution, len(dist))
	for w, m := range dist {
		c := make(map[string]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[w] = c
	}
	return out
}

// Workers returns the worker ids in dispatch order.
func (d *Dispatcher) Workers() []string { return append([]string(nil), d.workers...) }

// UserCount is the number of users the current distribution holds.
func (d *Dispatcher) UserCount() int { return d.cur }

// InProgress reports whether a dispatch cycle has iterations left.
func (d *Dispatcher) InProgress() bool { return !d.done }

// NewDispatch starts a dispatch cycle from the current distribution to
// target users at rate users per second (rate > 0).
func (d *Dispatcher) NewDispatch(target int, rate float64) {
	d.target = target
	d.perIter = max(1, int(math.Floor(rate)))
	d.wait = time.Duration(float64(d.perIter) / rate * float64(time.Second))
	d.initial = d.users.clone()
	d.started, d.afterYield, d.done = false, false, false
}

// Wait is how long the master sleeps after an iteration (Locust subtracts
// the iteration's own duration) unless the target has been reached.
func (d *Dispatcher) Wait() time.Duration {
	if d.cur == d.target {
		return 0
	}
	return d.wait
}

// Next returns the next iteration's distribution, or false when the cycle
// is over. It follows UsersDispatcher._dispatcher step by step: a rebalance
// requested by AddWorker or RemoveWorker is one extra iteration holding the
// recomputed distribution.
func (d *Dispatcher) Next() (Distribution, bool) {
	if d.done {
		return nil, false
	}
	if !d.started {
		d.started = true
		if d.rebalance {
			d.rebalance = false
			if d.cur == d.target {
				d.done = true
			}
			return d.users.clone(), true
		}
		if d.cur == d.target {
			d.done = true
			return d.initial.clone(), true
		}
	}
	if d.afterYield {
		d.afterYield = false
		if d.rebalance {
			d.rebalance = false
			return d.users.clone(), true
		}
	}
	switch {
	case d.cur < d.target:
		d.add()
	case d.cur > d.target:
		d.remove()
	default:
		d.done = true
		return nil, false
	}
	d.afterYield = true
	return d.users.clone(), true
}

func (d *Dispatcher) add() {
	goal := min(d.cur+d.perIter, d.target)
	for d.cur < goal {
		d.place()
	}
}

// place gives the next user of the class cycle to the next worker.
func (d *Dispatcher) place() {
	c := d.order[d.userPos%len(d.order)]
	w := d.workers[d.workerPos%len(d.workers)]
	d.userPos++
	d.workerPos++
	d.users[w][d.classes[c].Name]++
	d.cur++
	d.active = append(d.active, placement{w, c})
}

func (d *Dispatcher) remove() {
	goal := max(d.cur-d.perIter, d.target)
	for len(d.active) > 0 {
		p := d.active[len(d.active)-1]
		d.active = d.active[:len(d.active)-1]
		d.users[p.worker][d.classes[p.class].Name]--
		d.cur--
		if d.cur == 0 || d.cur <= goal {
			return
		}
	}
}

// AddWorker adds a worker and rebalances: the next iteration holds the
// current user count spread over every worker.
func (d *Dispatcher) AddWorker(id string) {
	d.workers = sortWorkers(append(d.workers, id))
	d.prepareRebalance()
}

// RemoveWorker removes a worker (gone or missing) and rebalances, unless it
// was the last one.
func (d *Dispatcher) RemoveWorker(id string) {
	kept := d.workers[:0:0]
	for _, w := range d.workers {
		if w != id {
			kept = append(kept, w)
		}
	}
	d.workers = kept
	if len(d.workers) == 0 {
		return
	}
	d.prepareRebalance()
}

// prepareRebalance redistributes the current users from scratch over the
// workers, as a ramp without waits, and continues the class and worker
// cycles from there.
func (d *Dispatcher) prepareRebalance() {
	n := d.cur
	d.users = d.empty()
	d.active = d.active[:0]
	d.cur, d.userPos, d.workerPos = 0, 0, 0
	for d.cur < n {
		d.place()
	}
	d.rebalance = true
}
