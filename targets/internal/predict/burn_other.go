//go:build !linux

package predict

import "time"

// threadCPU reports no per-thread CPU clock outside Linux; Burn then spins on wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
