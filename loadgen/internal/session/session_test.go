package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"predictlab/loadgen/internal/selfcheck"
	"predictlab/loadgen/internal/stats"
	"predictlab/loadgen/internal/users"
)

func TestLifeCycle(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	limit := make(chan struct{})
	st := stats.New(time.Now)
	s := New(Options{
		Classes: []users.Class{{Name: "U", Weight: 1, Tasks: []users.Task{{Method: "GET", Path: "/", Weight: 1}}}},
		Stats:   st, Log: zerolog.Nop(), OnTimeLimit: func() { close(limit) },
	})
	if s.State() != StateReady || s.UserCount() != 0 {
		t.Fatalf("new session: %s, %d users", s.State(), s.UserCount())
	}
	if err := s.Start(2, 100, "ftp://nope", 0); err == nil {
		t.Fatal("bad host accepted")
	}
	if err := s.Start(2, 100, srv.URL, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	<-limit // the run-time limit fired
	for s.State() != StateRunning {
		time.Sleep(time.Millisecond) // wait for the ramp to complete
	}
	if s.Host() != srv.URL || s.ClassCounts()["U"] != 2 {
		t.Fatalf("host %q counts %v", s.Host(), s.ClassCounts())
	}
	for s.Snapshot().Total.NumRequests == 0 {
		time.Sleep(time.Millisecond) // wait for a request to complete
	}
	s.Stop()
	if s.State() != StateStopped || s.UserCount() != 0 {
		t.Fatalf("after stop: %s, %d users", s.State(), s.UserCount())
	}
	s.ResetStats()
	if n := s.Snapshot().Total.NumRequests; n != 0 {
		t.Fatalf("after reset: %d requests", n)
	}
}

// TestLoopTicksEverySecond runs Loop in a synctest bubble: virtual time, so
// the one-second cadence is checked without any real waiting.
func TestLoopTicksEverySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := stats.New(time.Now)
		mon := selfcheck.New(time.Now(), func() (time.Duration, error) { return 0, nil }, nil, nil)
		s := New(Options{Classes: []users.Class{{Name: "U", Weight: 1}}, Stats: st, Monitor: mon, Log: zerolog.Nop()})
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		var ticks []time.Duration
		var ns []int
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Loop(ctx, func(n int, snap *stats.Snapshot) {
				ticks = append(ticks, time.Since(start))
				ns = append(ns, n)
				if snap == nil {
					t.Error("nil snapshot")
				}
			})
		}()
		time.Sleep(5*time.Second + time.Millisecond)
		synctest.Wait()
		cancel()
		<-done
		want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second}
		if !reflect.DeepEqual(ticks, want) || !reflect.DeepEqual(ns, []int{0, 1, 2, 3, 4, 5}) {
			t.Fatalf("ticks %v n %v", ticks, ns)
		}
		if got := len(mon.Report().Timeline); got != 5 {
			t.Fatalf("self-check timeline has %d points, want 5 (one per closed second)", got)
		}
	})
}

// TestStartDuringStop is the review's R8: with a stop timeout, a Stop waits
// for the users' tasks; a Start arriving meanwhile (a double click, a
// script) must not add users that Stop never stops. The Start waits for the
// Stop, and a later Stop stops everything.
func TestStartDuringStop(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var inflight atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	s := New(Options{
		Classes: []users.Class{{Name: "U", Weight: 1, Tasks: []users.Task{{Method: "GET", Path: "/", Weight: 1}}}},
		Stats:   stats.New(time.Now), Log: zerolog.Nop(), StopTimeout: time.Hour,
	})
	deadline := time.After(60 * time.Second) // a hang, not a timing: every step below is short
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-deadline:
				t.Fatalf("gave up waiting for %s", what)
			case <-time.After(time.Millisecond):
			}
		}
	}
	if err := s.Start(4, 100, srv.URL, 0); err != nil {
		t.Fatal(err)
	}
	waitFor("4 requests in flight", func() bool { return inflight.Load() == 4 })

	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }() // waits for the 4 hung tasks (stop timeout 1 h)
	waitFor("the stopping state", func() bool { return s.State() == StateStopping })
	started := make(chan error, 1)
	go func() { started <- s.Start(4, 100, srv.URL, 0) }()

	close(release) // the old users' tasks end; they stop
	select {
	case <-stopped:
	case <-deadline:
		t.Fatal("the first Stop never returned (users started during it are waited for)")
	}
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-deadline:
		t.Fatal("the Start never returned")
	}
	waitFor("the new test's 4 users", func() bool { return s.UserCount() == 4 })
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()
	select {
	case <-done:
	case <-deadline:
		t.Fatal("the second Stop never returned")
	}
	if s.State() != StateStopped || s.UserCount() != 0 {
		t.Fatalf("after the stop: %s, %d users", s.State(), s.UserCount())
	}
}
