package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
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
