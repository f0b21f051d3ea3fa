// Package queueing predicts each architecture's capacity from a queueing
// model, so the report can put prediction beside measurement.
//
//   - Blocking (worker per request): W workers, each held for the whole
//     service time S of a request, serve at most W / E[S] requests per second.
//   - Event loop: L loops, each busy only for the CPU part c of a request,
//     serve at most L / c requests per second; with c = 0 the loop is never
//     the bottleneck ("not CPU-bound in range").
//
// Under constant pacing P, the user count that saturates a target is
// capacity × P while latency stays below P.
//
// Network (network.go) is the whole target as a network of queues, for
// sweeps: every station (scoring pool or loop, model pool or loop, the CPU
// cores) gets a capacity, the smallest names the bottleneck, and a blocking
// pool is solved as a closed network by mean-value analysis (MVA), because
// its W workers queue for few cores.
package queueing

import (
	"fmt"
	"math"
	"time"
)

// ModelDelayMeanMS is E[U(40 ms, 50 ms)], one model call's delay.
const ModelDelayMeanMS = 45.0

// Prediction is a capacity prediction with the inputs used.
type Prediction struct {
	// Bound says whether the model predicts a limit within the load tested.
	Bound bool `json:"bound"`
	// Capacity is requests per second (0 when not Bound).
	Capacity float64 `json:"capacity"`
	// Users is Capacity × pacing: the user count that saturates the target.
	Users float64 `json:"users"`
	// Formula explains the prediction with its numbers filled in.
	Formula string `json:"formula"`
	// Unknown, when set, says why no prediction was made: an input the
	// lab does not know (an external service's workers, say). Bound is
	// then false, and nothing about capacity may be concluded.
	Unknown string `json:"unknown,omitempty"`
}

// Unknowable is no prediction, because of why (an input not known).
func Unknowable(why string) Prediction {
	return Prediction{Formula: "unknown: " + why, Unknown: why}
}

// Blocking predicts the capacity of W workers with mean service time
// serviceMS (for example experiment 1's mean response time).
func Blocking(workers int, serviceMS float64, pacing time.Duration) Prediction {
	if workers < 1 || serviceMS <= 0 || math.IsNaN(serviceMS) {
		return Prediction{Formula: "W / E[S]: service time unknown"}
	}
	c := float64(workers) / (serviceMS / 1000)
	return Prediction{Bound: true, Capacity: c, Users: c * pacing.Seconds(),
		Formula: fmt.Sprintf("W / E[S] = %d / %.1f ms = %.1f req/s", workers, serviceMS, c)}
}

// ServiceModelMS is the blocking service time the model expects: the
// feature fetch, fanout sequential model calls (delay + their CPU) and the
// scoring request's own CPU.
func ServiceModelMS(featuresMS float64, fanout int, modelDelayMeanMS float64, modelCPU, scoringCPU time.Duration) float64 {
	return featuresMS + float64(fanout)*(modelDelayMeanMS+msOf(modelCPU)) + msOf(scoringCPU)
}

// EventLoop predicts the capacity of L loops whose requests each hold a
// loop for cpu. The model service's loops (modelLoops, holding modelCPU for
// each of fanout calls per scoring request) can be the tighter limit.
func EventLoop(loops int, cpu time.Duration, modelLoops, fanout int, modelCPU time.Duration, pacing time.Duration) Prediction {
	type bound struct {
		what string
		c    float64
	}
	var bs []bound
	if cpu > 0 && loops > 0 {
		bs = append(bs, bound{fmt.Sprintf("L / c = %d / %.2f ms", loops, msOf(cpu)), float64(loops) / cpu.Seconds()})
	}
	if modelCPU > 0 && modelLoops > 0 && fanout > 0 {
		bs = append(bs, bound{fmt.Sprintf("model L / (fanout × c) = %d / (%d × %.2f ms)", modelLoops, fanout, msOf(modelCPU)),
			float64(modelLoops) / (float64(fanout) * modelCPU.Seconds())})
	}
	if len(bs) == 0 {
		return Prediction{Formula: "L / c with c = 0: not CPU-bound in range"}
	}
	best := bs[0]
	for _, b := range bs[1:] {
		if b.c < best.c {
			best = b
		}
	}
	return Prediction{Bound: true, Capacity: best.c, Users: best.c * pacing.Seconds(),
		Formula: fmt.Sprintf("%s = %.1f req/s", best.what, best.c)}
}

// MeasuredLoopCPU estimates the CPU a request holds the loop for, from the
// loop's busy-seconds counter and the requests served over the same interval.
func MeasuredLoopCPU(busySeconds float64, requests float64) (time.Duration, bool) {
	if requests <= 0 || busySeconds < 0 {
		return 0, false
	}
	return time.Duration(busySeconds / requests * float64(time.Second)), true
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
