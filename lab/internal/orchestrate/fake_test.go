package orchestrate

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"predictlab/internal/locustcsv"
)

// The test binary doubles as a stand-in for bin/targets and bin/loadgen:
// a wrapper script (fakeBin) runs it with PREDICTLAB_FAKE_BIN set, and the
// first argument says which program it plays. Its behaviour comes from
// FAKE_* variables the wrapper sets, so tests that run in parallel each
// get their own.
func TestMain(m *testing.M) {
	if os.Getenv("PREDICTLAB_FAKE_BIN") != "" {
		os.Exit(fakeMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeBin writes an executable that runs the test binary as a fake, with
// env (KEY=value) set, and returns its path.
func fakeBin(t *testing.T, name string, env ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	script := "#!/bin/sh\nexport PREDICTLAB_FAKE_BIN=1"
	for _, kv := range env {
		script += " '" + kv + "'"
	}
	script += "\nexec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

func fakeMain(args []string) int {
	if len(args) == 0 {
		return 2
	}
	switch args[0] {
	case "featurestore":
		return fakeStore(args[1:])
	case "model", "scoring":
		return fakeService(args[0], args[1:])
	}
	return fakeLoadgen(args)
}

// fakeStore answers every read with +PONG.
func fakeStore(args []string) int {
	fs := flag.NewFlagSet("featurestore", flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	if fs.Parse(args) != nil {
		return 2
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return 1
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
				if _, err := c.Write([]byte("+PONG\r\n")); err != nil {
					return
				}
			}
		}()
	}
}

// fakeService serves the healthcheck, a predict route and /metrics with
// predictlab_inflight_requests: FAKE_INFLIGHT (default 5) for the first
// FAKE_BUSY_READS reads of /metrics, 0 after. The service named
// FAKE_EXIT_SERVICE ("sync model") exits with status 3 at its
// FAKE_EXIT_AFTER_READS-th read of /metrics.
func fakeService(role string, args []string) int {
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	addr := fs.String("addr", "", "")
	route := fs.String("route", "", "")
	for _, f := range []string{"style", "framework", "workers", "backlog", "loops", "cpu-cost", "model-delay", "model-url", "feature-store", "fanout"} {
		fs.String(f, "", "")
	}
	if fs.Parse(args) != nil {
		return 2
	}
	var reads atomic.Int64
	busyReads, _ := strconv.ParseInt(os.Getenv("FAKE_BUSY_READS"), 10, 64)
	inflight := os.Getenv("FAKE_INFLIGHT")
	if inflight == "" {
		inflight = "5"
	}
	exitAfter := int64(-1)
	if os.Getenv("FAKE_EXIT_SERVICE") == *route+" "+role {
		exitAfter, _ = strconv.ParseInt(os.Getenv("FAKE_EXIT_AFTER_READS"), 10, 64)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/healthcheck", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"OK"}`)
	})
	mux.HandleFunc("POST /api/v1/ml/{route}/predict", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"detail":1.0}`)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		read := reads.Add(1)
		if read == exitAfter {
			os.Exit(3) // the lab scrapes every service once a second while loadgen runs
		}
		n := "0"
		if read <= busyReads {
			n = inflight
		}
		fmt.Fprintf(w, "# TYPE predictlab_inflight_requests gauge\npredictlab_inflight_requests{service=%q} %s\n", role, n)
	})
	err := http.ListenAndServe(*addr, mux)
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// fakeLoadgen writes the stats and history files loadgen would, after
// running for FAKE_RUN_FOR (default 200ms) or until SIGTERM. FAKE_RESULT
// is "ok" (100 requests), "zero" (none) or "fail" (100, all failed). When
// stopped by SIGTERM it also writes PREFIX.stopped.
func fakeLoadgen(args []string) int {
	prefix, users := "", 1
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--csv":
			prefix = args[i+1]
		case "-u":
			fmt.Sscan(args[i+1], &users)
		}
	}
	if prefix == "" {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	runFor := envDuration("FAKE_RUN_FOR")
	if runFor == 0 {
		runFor = 200 * time.Millisecond
	}
	select {
	case <-time.After(runFor):
	case <-ctx.Done():
		_ = os.WriteFile(prefix+".stopped", nil, 0o644)
	}
	var requests, failures int64 = 100, 0
	switch os.Getenv("FAKE_RESULT") {
	case "zero":
		requests = 0
	case "fail":
		failures = requests
	}
	row := locustcsv.StatsRow{Name: locustcsv.AggregatedName, RequestCount: requests, FailureCount: failures,
		Median: 90, Average: 91, Min: 88, Max: 99, RequestsPerSec: float64(requests) / 3}
	var hist []locustcsv.HistoryRow
	now := time.Now().Unix()
	for i := int64(0); i < 4; i++ {
		h := locustcsv.HistoryRow{Timestamp: now - 3 + i, UserCount: min(users, int(i)*users/2), Name: locustcsv.AggregatedName,
			TotalRequestCount: requests * i / 3, TotalFailureCount: failures * i / 3, TotalAverage: 91}
		h.Percentiles[0], h.Percentiles[5] = 90, 95
		hist = append(hist, h)
	}
	for _, f := range []struct {
		suffix string
		write  func(*os.File) error
	}{
		{"_stats.csv", func(f *os.File) error { return locustcsv.WriteStats(f, []locustcsv.StatsRow{row}) }},
		{"_stats_history.csv", func(f *os.File) error { return locustcsv.WriteHistory(f, hist) }},
	} {
		fh, err := os.Create(prefix + f.suffix)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := f.write(fh); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fh.Close()
	}
	if failures > 0 || strings.Contains(os.Getenv("FAKE_RESULT"), "exit1") {
		return 1
	}
	return 0
}
