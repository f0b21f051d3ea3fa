package session

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

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
