package predict

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// threadCPU is the calling thread's CPU time (user and system).
//
// It is a raw system call: clock_gettime never blocks, and Burn makes it every
// microsecond or so. Through unix.ClockGettime (a Syscall, which tells the Go
// scheduler it entered a system call) the burner's P was in a system call a large
// share of the time: Go's monitor thread then took the P away whenever it saw that
// at a preemption check (handing it to another thread and back), and kept waking
// every 20 µs instead of backing off to 10 ms. Measured with two locked 20 ms burners
// on the 2-core VM: 1.07-1.20 s of process CPU per second burned and ~3,500
// voluntary context switches a second, against 1.01-1.02 and ~230 with the raw call.
func threadCPU() (time.Duration, bool) {
	var ts unix.Timespec
	_, _, errno := unix.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_THREAD_CPUTIME_ID, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
