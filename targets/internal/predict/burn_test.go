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

// BenchmarkBurnOverhead reports the process CPU that GOMAXPROCS burners of
// 20 ms (the event loops of a CPU-bound sweep point) spend per millisecond
// burned, as cpu/burned: what queueing.CPUCostFactor stands for. Reading the
// thread's clock through a Syscall instead of a raw call made it 1.07-1.20.
func BenchmarkBurnOverhead(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("per-thread CPU clock used on Linux only")
	}
	const d = 20 * time.Millisecond
	n := runtime.GOMAXPROCS(0)
	var ru syscall.Rusage
	cpu := func() time.Duration {
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	before := cpu()
	for b.Loop() {
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() { defer wg.Done(); Burn(d) }()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(cpu()-before)/float64(time.Duration(b.N*n)*d), "cpu/burned")
}
