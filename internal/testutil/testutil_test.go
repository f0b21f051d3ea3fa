package testutil

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestFreePortsDistinct(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for _, p := range FreePorts(t, 5) {
		if p <= 0 || seen[p] {
			t.Fatalf("port %d repeated or invalid", p)
		}
		seen[p] = true
	}
}

func TestWaitHealthy(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	WaitHealthy[struct{}](t, srv.URL, time.Second, nil)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	if err := CheckHealth(t.Context(), bad.URL, time.Second); err == nil {
		t.Fatal("CheckHealth of a 503 succeeded")
	}
}

// Stop ends the whole group, a stopped (SIGSTOP) child included.
func TestProcessStop(t *testing.T) {
	t.Parallel()
	p := Start(t, "sh", []string{"sh", "-c", "sleep 30 & sleep 30; wait"})
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("not done after Stop")
	}
	for i := 0; liveMembers(p.Pid()) > 0; i++ { // killed members die asynchronously
		if i > 100 {
			t.Fatal("process group still has live members after Stop")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// liveMembers counts the processes of group pgid that are not zombies (a killed
// orphan stays a zombie until init reaps it).
func liveMembers(pgid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	n := 0
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b)[i+1:]) // state ppid pgrp ...
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			n++
		}
	}
	return n
}

func TestServicePorts(t *testing.T) {
	t.Parallel()
	ports := ServicePorts(t, 5)
	seen := map[int]bool{}
	for _, p := range ports {
		if p < 1024 || p >= 32768 || seen[p] {
			t.Errorf("port %d: want distinct ports below the ephemeral range (got %v)", p, ports)
		}
		seen[p] = true
	}
}
