// Package runner runs simulated users against a target: it spawns them in
// Locust's batches, runs each user's task loop (pick a task by weight, send its
// request on the user's own keep-alive connection, wait per wait_time), feeds
// every result to the stats, and stops users with Locust's --stop-timeout
// semantics. One goroutine per user, each owned by the Runner and waited for
// in Stop.
package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/httpclient"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
	"predictlab/loadgen/internal/wait"
)

// Options configure a Runner.
type Options struct {
	// Classes are the user classes to run (at least one with tasks).
	Classes []users.Class
	// Target is the host under test.
	Target *httpclient.Target
	// Stats receives every request: a *stats.Stats, or a distributed
	// worker's recorder.
	Stats Recorder
	// StopTimeout lets users in the middle of a task finish it when stopping;
	// 0 kills them at once (their in-flight request is not recorded).
	StopTimeout time.Duration
	// RequestTimeout is each connection's request timeout (see
	// httpclient.Conn.SetTimeout); 0 for none.
	RequestTimeout time.Duration
	// Log is the "locust.runners" logger.
	Log zerolog.Logger
	// Lag, when set, receives each request's generator-caused lag: for a
	// user's first task (first is true), how late it started after the
	// user's spawn time; for later tasks, how late after their wait ended.
	Lag func(d time.Duration, first bool)
	// OnSpawned, when set, runs each time a ramp has completed.
	OnSpawned func()
	// Seed seeds the per-user random generators (task choice, between waits).
	Seed uint64
	// ConnBudget is the number of open connections above which users park
	// idle connections during long waits (0 = no limit).
	ConnBudget int64
}

// Recorder receives every finished request and every task exception. Its
// methods are called from many user goroutines at once.
type Recorder interface {
	Record(r stats.Result)
	RecordException(msg, traceback string)
}

var _ Recorder = (*stats.Stats)(nil)

type task struct {
	t      *users.Task
	req    *httpclient.Request
	name   string
	errURL string // the task's name= (Locust's URL in error texts), "" for none
}

type class struct {
	c      *users.Class
	picker []*task
	noTask string
}

// Runner spawns and stops users. Its methods are safe for concurrent use.
type Runner struct {
	opts     Options
	classes  []class
	dispatch []int
	budget   *httpclient.Budget

	killCtx context.Context
	killAll context.CancelFunc

	// ctl serialises Start and Stop: a Start that comes while a Stop waits
	// for its users (stop timeout) waits for it, so that every user a Start
	// spawns is one a later Stop sees. mu alone is released during those
	// waits.
	ctl sync.Mutex

	mu        sync.Mutex
	live      []*user
	counts    map[string]int
	nextID    uint64
	rampStop  context.CancelFunc
	rampDone  chan struct{}
	wg        sync.WaitGroup
	userCount atomic.Int64
}

// New prepares a runner: it serialises every task's request once.
func New(opts Options) (*Runner, error) {
	if len(opts.Classes) == 0 {
		return nil, fmt.Errorf("create runner: no user classes")
	}
	r := &Runner{opts: opts, counts: map[string]int{}, budget: httpclient.NewBudget(opts.ConnBudget)}
	r.killCtx, r.killAll = context.WithCancel(context.Background())
	for i := range opts.Classes {
		c := &opts.Classes[i]
		cl := class{c: c}
		if len(c.Tasks) == 0 {
			cl.noTask = c.NoTasksMessage()
		}
		prepared := make(map[*users.Task]*task, len(c.Tasks))
		for j := range c.Tasks {
			t := &c.Tasks[j]
			hs := make([]httpclient.Header, len(t.Headers))
			for k, h := range t.Headers {
				hs[k] = httpclient.Header{Key: h.Key, Value: h.Value}
			}
			req, err := opts.Target.NewRequest(t.Method, t.Path, t.ContentType, hs, t.Body)
			if err != nil {
				return nil, fmt.Errorf("prepare %s task %s %s: %w", c.Name, t.Method, t.Path, err)
			}
			pt := &task{t: t, req: req, name: t.StatsName(), errURL: t.Name}
			prepared[t] = pt
		}
		for _, t := range c.Picker() {
			cl.picker = append(cl.picker, prepared[t])
		}
		r.classes = append(r.classes, cl)
	}
	r.dispatch = users.Dispatch(opts.Classes)
	return r, nil
}

// UserCount is the number of live users.
func (r *Runner) UserCount() int { return int(r.userCount.Load()) }

// ClassCounts returns the live users per class name.
func (r *Runner) ClassCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		if v > 0 {
			out[k] = v
		}
	}
	return out
}

// ClassCountsJSON renders counts as Locust logs them: {"A": 1, "B": 2}, sorted.
func ClassCountsJSON(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		k, _ := json.Marshal(n)
		parts[i] = fmt.Sprintf("%s: %d", k, counts[n])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Start ramps to n users at rate users per second, from however many are
// running; it returns at once. A ramp already in progress is replaced.
func (r *Runner) Start(n int, rate float64) {
	r.ctl.Lock()
	defer r.ctl.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopRampLocked()
	if rate > 100 {
		r.opts.Log.Warn().Msg("Your selected spawn rate is very high (>100), and this is known to sometimes cause issues. Do you really need to ramp up that fast?")
	}
	r.opts.Log.Info().Msgf("Ramping to %d users at a rate of %.2f per second", n, rate)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r.rampStop, r.rampDone = cancel, done
	steps := Ramp(len(r.live), n, rate)
	gap := min(UserStartGap, time.Duration(float64(time.Second)/rate))
	go r.ramp(ctx, done, steps, gap)
}

func (r *Runner) stopRampLocked() {
	if r.rampStop != nil {
		r.rampStop()
		done := r.rampDone
		r.mu.Unlock()
		<-done
		r.mu.Lock()
		r.rampStop, r.rampDone = nil, nil
	}
}

func (r *Runner) ramp(ctx context.Context, done chan struct{}, steps []Step, gap time.Duration) {
	defer close(done)
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for _, st := range steps {
		if d := time.Until(start.Add(st.At)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		r.resize(st.Users, gap)
	}
	counts := r.ClassCounts()
	r.opts.Log.Info().Msgf("All users spawned: %s (%d total users)", ClassCountsJSON(counts), r.UserCount())
	if r.opts.OnSpawned != nil {
		r.opts.OnSpawned()
	}
}

// UserStartGap spaces the first requests of the users of one spawn batch.
// Locust starts a batch's users back to back, each start costing Python
// about 0.13 ms (150 users in ~19 ms), so a batch's first requests are
// spread out; Go starts a user in a microsecond, and without this gap a
// batch of 500 pacing users would send every request of each cycle in the
// same instant.
const UserStartGap = 125 * time.Microsecond

// resize spawns or kills (newest first) users until n are live. New users
// start gap apart (UserStartGap, or 1/rate when that is shorter, so a batch
// never takes longer than its interval).
func (r *Runner) resize(n int, gap time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	for i := 0; len(r.live) < n; i++ {
		ci := r.dispatch[int(r.nextID)%len(r.dispatch)]
		u := r.newUser(ci)
		r.live = append(r.live, u)
		r.counts[r.classes[ci].c.Name]++
		r.userCount.Add(1)
		r.wg.Add(1)
		go r.runUser(r.killCtx, u, start.Add(time.Duration(i)*gap))
	}
	for len(r.live) > n {
		u := r.live[len(r.live)-1]
		r.live = r.live[:len(r.live)-1]
		r.counts[u.cl.c.Name]--
		u.kill()
	}
}

// Stop ends the ramp and stops every user, honouring StopTimeout, and waits
// for all user goroutines to exit.
func (r *Runner) Stop() {
	r.ctl.Lock()
	defer r.ctl.Unlock()
	r.mu.Lock()
	r.stopRampLocked()
	live := r.live
	r.live = nil
	for k := range r.counts {
		delete(r.counts, k)
	}
	r.mu.Unlock()

	if r.opts.StopTimeout > 0 {
		for _, u := range live {
			u.stopping.Store(true)
			u.wake()
		}
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		timer := time.NewTimer(r.opts.StopTimeout)
		select {
		case <-done:
			timer.Stop()
			return
		case <-timer.C:
			r.opts.Log.Info().Msgf("Not all users finished their tasks & terminated in %d seconds. Stopping them...", int(r.opts.StopTimeout/time.Second))
		}
	}
	for _, u := range live {
		u.kill()
	}
	r.mu.Lock()
	r.killAll()
	r.mu.Unlock()
	r.wg.Wait()
	r.mu.Lock()
	r.killCtx, r.killAll = context.WithCancel(context.Background())
	r.mu.Unlock()
}

type user struct {
	id       uint64
	cl       *class
	conn     *httpclient.Conn
	sched    *wait.Schedule
	rnd      *rand.Rand
	stop     chan struct{}
	stopOnce sync.Once
	stopping atomic.Bool
	killed   atomic.Bool
}

func (r *Runner) newUser(ci int) *user {
	r.nextID++
	conn := httpclient.NewConn(r.opts.Target, r.budget)
	conn.SetTimeout(r.opts.RequestTimeout)
	return &user{
		id:    r.nextID,
		cl:    &r.classes[ci],
		conn:  conn,
		sched: wait.NewSchedule(r.classes[ci].c.Wait),
		rnd:   rand.New(rand.NewPCG(r.opts.Seed, r.nextID)),
		stop:  make(chan struct{}),
	}
}

func (u *user) wake() { u.stopOnce.Do(func() { close(u.stop) }) }

func (u *user) kill() {
	u.killed.Store(true)
	u.wake()
	u.conn.Abort()
}

// runUser is one user's task loop; intended is its spawn time.
func (r *Runner) runUser(ctx context.Context, u *user, intended time.Time) {
	defer r.wg.Done()
	defer r.userCount.Add(-1)
	defer u.conn.Close()
	var timer *time.Timer
	ready := intended
	first := true
	loggedNoTask := false
	for {
		if d := time.Until(intended); d > 0 {
			u.conn.Park(d)
			if timer == nil {
				timer = time.NewTimer(d)
				defer timer.Stop()
			} else {
				timer.Reset(d)
			}
			select {
			case <-timer.C:
			case <-u.stop:
				return
			}
		}
		if u.killed.Load() || u.stopping.Load() {
			return
		}
		begin := time.Now()
		if r.opts.Lag != nil {
			lag := begin.Sub(intended)
			if ready.After(intended) {
				lag = begin.Sub(ready)
			}
			r.opts.Lag(lag, first)
		}
		first = false
		if u.cl.noTask != "" {
			r.opts.Stats.RecordException(u.cl.noTask, users.NoTasksTraceback)
			if !loggedNoTask {
				loggedNoTask = true
				r.opts.Log.Error().Str("logger", "locust.user.task").Msg(u.cl.noTask)
			}
		} else {
			t := u.cl.picker[u.rnd.IntN(len(u.cl.picker))]
			// The response time runs from just before the request is
			// written: a connection set-up comes first and is not in it
			// (a failed one is, as the request's time).
			start := begin
			err := u.conn.Connect(ctx)
			var resp httpclient.Response
			if err == nil {
				start = time.Now()
				resp, err = u.conn.Do(ctx, t.req)
			}
			elapsed := time.Since(start)
			if u.killed.Load() {
				return // abandoned in flight: not recorded, as Locust's greenlet kill
			}
			res := stats.Result{Method: t.req.Method, Name: t.name, Start: start, Intended: intended,
				ResponseTime: elapsed, ContentLength: resp.BodyLen}
			switch {
			case err != nil:
				res.Err = httpclient.ErrorText(err)
				res.ContentLength = 0
			case !t.t.Success(resp.Status):
				if resp.Status >= 400 {
					url := t.errURL // Locust puts name= in place of the URL
					if url == "" {
						url = resp.URL // the final URL when redirects were followed
					}
					res.Err = httpclient.HTTPErrorText(resp.Status, resp.Reason, url)
				} else {
					res.Err = httpclient.UnexpectedStatusText(resp.Status)
				}
			}
			r.opts.Stats.Record(res)
		}
		if u.stopping.Load() || u.killed.Load() {
			return
		}
		ready = time.Now()
		intended = u.sched.Next(ready, u.rnd.Float64())
	}
}
