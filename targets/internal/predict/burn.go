package predict

import (
	"runtime"
	"time"
)

// Burn keeps the CPU busy for d of the calling thread's own CPU time (busy work standing
// in for real computation). It returns at once when d <= 0.
//
// It counts CPU time, not wall time, because that is what a real computation costs: a
// request that is descheduled half-way (eight workers on two cores) must still get d of
// CPU before it finishes, so the cores are a real queue. A wall-clock spin would finish
// after d whoever had the CPU meanwhile, and let eight workers "compute" on two cores as
// if they had eight. The goroutine is locked to its thread while it burns, so the thread's
// clock is the goroutine's.
func Burn(d time.Duration) {
	if d <= 0 {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, ok := threadCPU()
	if !ok {
		burnWall(d)
		return
	}
	sum := 0
	for {
		// Spin between readings: reading the thread's clock is a system call.
		for i := 0; i < 2000; i++ {
			sum += i
		}
		runtime.KeepAlive(sum)
		now, _ := threadCPU()
		if now-start >= d {
			return
		}
	}
}

// burnWall spins for d of wall time, where no per-thread CPU clock is available.
func burnWall(d time.Duration) {
	start := time.Now()
	for time.Since(start) < d {
		// spin: the point is to hold the CPU
	}
}
