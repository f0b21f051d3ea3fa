package runner

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/httpclient"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
	"predictlab/loadgen/internal/wait"
)

// blockingServer answers the first request at once and holds every later one
// until release is closed; inflight receives once per held request.
func blockingServer(t *testing.T) (srv *httptest.Server, inflight chan struct{}, release chan struct{}) {
	inflight, release = make(chan struct{}, 100), make(chan struct{})
	var n atomic.Int64
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			inflight <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, inflight, release
}

func newRunner(t *testing.T, url string, stopTimeout time.Duration) (*Runner, *stats.Stats) {
	t.Helper()
	tg, err := httpclient.ParseTarget(url)
	if err != nil {
		t.Fatal(err)
	}
	st := stats.New(time.Now)
	r, err := New(Options{
		Classes: []users.Class{{Name: "U", Weight: 1, Tasks: []users.Task{{Method: "GET", Path: "/x", Weight: 1}}}},
		Target:  tg, Stats: st, StopTimeout: stopTimeout, Log: zerolog.Nop(), Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, st
}

// Without --stop-timeout, users are killed at once and the request in
// flight is abandoned, not recorded (Locust kills the greenlet).
func TestStopKillsInFlight(t *testing.T) {
	srv, inflight, release := blockingServer(t)
	defer close(release)
	r, st := newRunner(t, srv.URL, 0)
	r.Start(1, 1)
	<-inflight
	r.Stop()
	if got := st.Snapshot().Total.NumRequests; got != 1 {
		t.Fatalf("recorded %d requests, want 1 (the in-flight one abandoned)", got)
	}
	if r.UserCount() != 0 {
		t.Fatalf("user count %d after Stop", r.UserCount())
	}
}

// With --stop-timeout, a user in the middle of its task finishes it.
func TestStopTimeoutLetsTaskFinish(t *testing.T) {
	srv, inflight, release := blockingServer(t)
	r, st := newRunner(t, srv.URL, time.Hour)
	r.Start(1, 1)
	<-inflight
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Stop() }()
	close(release)
	wg.Wait()
	snap := st.Snapshot()
	if snap.Total.NumRequests < 2 || snap.Total.NumFailures != 0 {
		t.Fatalf("recorded %d requests (%d failed), want the in-flight one completed", snap.Total.NumRequests, snap.Total.NumFailures)
	}
}

func TestRampSpawnsClassesByWeight(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tg, _ := httpclient.ParseTarget(srv.URL)
	spawned := make(chan struct{})
	pacing := users.Class{Weight: 1}
	pacing.Wait.Kind = wait.ConstantPacing
	pacing.Wait.A = 3600
	a, b := pacing, pacing
	a.Name, a.Weight, a.Tasks = "A", 3, []users.Task{{Method: "GET", Path: "/a", Weight: 1}}
	b.Name, b.Tasks = "B", []users.Task{{Method: "GET", Path: "/b", Weight: 1}}
	r, err := New(Options{Classes: []users.Class{b, a}, Target: tg, Stats: stats.New(time.Now), Log: zerolog.Nop(),
		OnSpawned: func() { close(spawned) }})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(8, 1000)
	<-spawned
	if got := r.ClassCounts(); got["A"] != 6 || got["B"] != 2 || r.UserCount() != 8 {
		t.Fatalf("class counts %v, users %d", got, r.UserCount())
	}
	r.Stop()
}

// A redirect is followed within the task: one request under the original
// name, failed with the final URL (or the task's name=) in its error text.
func TestRedirectRecordedUnderOriginalName(t *testing.T) {
	finals := make(chan struct{}, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redir", "/redir2":
			http.Redirect(w, r, "/gone", http.StatusFound)
		default:
			http.Error(w, "no such page", http.StatusNotFound)
			finals <- struct{}{}
		}
	}))
	defer srv.Close()
	tg, _ := httpclient.ParseTarget(srv.URL)
	pacing := users.Class{Weight: 1}
	pacing.Wait.Kind = wait.ConstantPacing
	pacing.Wait.A = 3600
	a, b := pacing, pacing
	a.Name, a.Tasks = "A", []users.Task{{Method: "GET", Path: "/redir", Weight: 1}}
	b.Name, b.Tasks = "B", []users.Task{{Method: "POST", Path: "/redir2", Name: "named", Weight: 1}}
	st := stats.New(time.Now)
	r, err := New(Options{Classes: []users.Class{a, b}, Target: tg, Stats: st, Log: zerolog.Nop(),
		StopTimeout: time.Hour, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(2, 1000)
	<-finals
	<-finals
	r.Stop() // with a stop timeout: a task still reading its reply is recorded
	snap := st.Snapshot()
	want := map[string]string{
		"GET /redir": "HTTPError('404 Client Error: Not Found for url: " + srv.URL + "/gone')",
		"POST named": "HTTPError('404 Client Error: Not Found for url: named')",
	}
	if len(snap.Failures) != 2 {
		t.Fatalf("failures %+v", snap.Failures)
	}
	for _, f := range snap.Failures {
		if w := want[f.Method+" "+f.Name]; f.Error != w || f.Occurrences != 1 {
			t.Errorf("failure %+v, want error %q once", f, w)
		}
	}
	if len(snap.Entries) != 2 || snap.Total.NumRequests != 2 || snap.Total.AvgContentSize() != 13 {
		t.Errorf("entries %d, total %d requests, avg size %v; want 2, 2, 13 (the 404 body)",
			len(snap.Entries), snap.Total.NumRequests, snap.Total.AvgContentSize())
	}
}

// chanWriter hands each log line to a channel.
type chanWriter chan string

func (w chanWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// A class without tasks records Locust's exception with a traceback, so
// exceptions.csv's Traceback cell is not empty.
func TestNoTasksExceptionHasTraceback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tg, _ := httpclient.ParseTarget(srv.URL)
	c := users.Class{Name: "ApiUser", Weight: 1}
	c.Wait.Kind = wait.ConstantPacing
	c.Wait.A = 3600
	logs := make(chanWriter, 100)
	st := stats.New(time.Now)
	r, err := New(Options{Classes: []users.Class{c}, Target: tg, Stats: st, Log: zerolog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(1, 1)
	for line := range logs { // logged after the exception was recorded
		if strings.Contains(line, "No tasks defined") {
			break
		}
	}
	r.Stop()
	exc := st.Snapshot().Exceptions
	if len(exc) != 1 || exc[0].Message != c.NoTasksMessage() || exc[0].Traceback != users.NoTasksTraceback ||
		!strings.Contains(exc[0].Traceback, "in get_next_task\n    raise Exception(\n") {
		t.Fatalf("exceptions %+v", exc)
	}
}

// pacedRunner is a runner of one class "U" with one task, GET /x, paced
// every pacing seconds, letting tasks finish at stop; lag may be nil.
func pacedRunner(t *testing.T, tg *httpclient.Target, pacing float64, lag func(time.Duration, bool)) (*Runner, *stats.Stats) {
	t.Helper()
	c := users.Class{Name: "U", Weight: 1, Tasks: []users.Task{{Method: "GET", Path: "/x", Weight: 1}}}
	c.Wait.Kind = wait.ConstantPacing
	c.Wait.A = pacing
	st := stats.New(time.Now)
	r, err := New(Options{Classes: []users.Class{c}, Target: tg, Stats: st, Log: zerolog.Nop(), StopTimeout: time.Hour, Lag: lag})
	if err != nil {
		t.Fatal(err)
	}
	return r, st
}

// A response time starts when the request is written: the connection
// set-up before it (here made to take 300 ms) is not in it, but it is in
// the time from the intended start. Only lower bounds are asserted.
func TestConnectOutsideResponseTime(t *testing.T) {
	const setup = 300 * time.Millisecond
	done := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done <- struct{}{}
	}))
	defer srv.Close()
	tg, _ := httpclient.ParseTarget(srv.URL)
	tg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		time.Sleep(setup)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	r, st := pacedRunner(t, tg, 3600, nil)
	r.Start(1, 1)
	<-done
	r.Stop()
	snap := st.Snapshot()
	if snap.Total.NumRequests != 1 || snap.IntendedTotal.NumRequests != 1 {
		t.Fatalf("recorded %d requests (%d from the intended start), want 1", snap.Total.NumRequests, snap.IntendedTotal.NumRequests)
	}
	rt, it := snap.Total.MaxResponseTime, snap.IntendedTotal.MaxResponseTime
	if it < setup || it-rt < setup {
		t.Fatalf("response time %v, from the intended start %v: want the %v connect in the second only", rt, it, setup)
	}
}

// A connect that fails is a failed request, timed from its start.
func TestConnectFailureRecorded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tg, _ := httpclient.ParseTarget(srv.URL)
	srv.Close() // nothing listens there now
	failed := make(chan struct{})
	var once sync.Once
	tg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		time.Sleep(20 * time.Millisecond)
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			once.Do(func() { close(failed) })
		}
		return c, err
	}
	r, st := pacedRunner(t, tg, 3600, nil)
	r.Start(1, 1)
	<-failed
	r.Stop()
	snap := st.Snapshot()
	if snap.Total.NumFailures != 1 || len(snap.Failures) != 1 ||
		snap.Failures[0].Error != "ConnectionRefusedError(111, 'Connection refused')" {
		t.Fatalf("failures %+v (%d failed requests)", snap.Failures, snap.Total.NumFailures)
	}
	if snap.Total.MaxResponseTime < 20*time.Millisecond {
		t.Fatalf("failed connect recorded with %v, want the time it took", snap.Total.MaxResponseTime)
	}
}

// A user's first request reports its lag as a start lag (first), every
// later one as schedule lag.
func TestLagMarksFirstRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tg, _ := httpclient.ParseTarget(srv.URL)
	firsts := make(chan bool, 100)
	r, _ := pacedRunner(t, tg, 0.001, func(_ time.Duration, first bool) {
		select {
		case firsts <- first:
		default:
		}
	})
	r.Start(1, 1)
	var got []bool
	for range 6 {
		got = append(got, <-firsts)
	}
	r.Stop()
	if want := []bool{true, false, false, false, false, false}; !slices.Equal(got, want) {
		t.Fatalf("first flags %v, want %v", got, want)
	}
}
