package main

import "runtime/debug"

// defaultGCPercent is loadgen's garbage-collector target (GOGC) unless the
// environment sets GOGC. Paced users fire in bursts at the start of each
// cycle, and the per-second statistics tick, which allocates most of what
// loadgen allocates, is in phase with them, so a collection tends to start in
// the middle of a burst, where on a small machine its dedicated mark worker
// takes one of the processors the burst needs (gctrace: collections at 1.005 s,
// 4.006 s, 8.005 s of a run). Collecting a fifth as often measured better
// tails on a 2-vCPU VM (500 users x constant_pacing(1) on a 50 ms endpoint,
// 12-s runs in 6 alternating pairs: lower whole-run p99 in 5, median 66 vs
// 84 ms; p50 51.1-54.0 vs 51.7-59.8 ms) for more memory (20,000 users x
// constant_pacing(10): peak RSS 287 MB vs 222 MB).
const defaultGCPercent = 400

// gcPercent returns the GC target to set, and false when the environment
// (GOGC) already chose one.
func gcPercent(getenv func(string) string) (int, bool) {
	if getenv("GOGC") != "" {
		return 0, false
	}
	return defaultGCPercent, true
}

// tuneGC applies gcPercent to the process.
func tuneGC(getenv func(string) string) {
	if p, ok := gcPercent(getenv); ok {
		debug.SetGCPercent(p)
	}
}
