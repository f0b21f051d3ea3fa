package predict

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// processCPU is the process's user and system CPU time so far.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBurnCostsCPUTime checks that n burners sharing one core each get their own d of CPU:
// the process spends at least n × d, where a wall-clock spin would spend about d in all
// (every burner sees d of wall time pass, whoever held the core). Not parallel: it sets
// GOMAXPROCS.
func TestBurnCostsCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-thread CPU clock used on Linux only")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n, d = 4, 20 * time.Millisecond
	before := processCPU(t)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); Burn(d) }()
	}
	wg.Wait()
	if spent := processCPU(t) - before; spent < n*d*9/10 {
		t.Errorf("%d burners of %v spent %v of CPU, want at least %v", n, d, spent, n*d*9/10)
	}
}
