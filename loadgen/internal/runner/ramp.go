package runner

import (
	"math"
	"time"
)

// Step is one spawn iteration of a ramp: At is its offset from the ramp start
// and Users the number of live users once it is done.
type Step struct {
	At    time.Duration
	Users int
}

// Ramp returns the spawn schedule from `from` users to `to` at rate users per
// second, as Locust 2.12's dispatcher does it: batches of max(1, floor(rate))
// users, batch/rate seconds apart, the first at once and no pause after the
// last. Ramping down uses the same batches. rate must be above 0.
func Ramp(from, to int, rate float64) []Step {
	if from == to || rate <= 0 || math.IsNaN(rate) {
		return nil
	}
	batch := max(1, int(math.Floor(rate)))
	interval := time.Duration(float64(batch) / rate * float64(time.Second))
	var steps []Step
	cur := from
	for i := 0; cur != to; i++ {
		if to > cur {
			cur = min(to, cur+batch)
		} else {
			cur = max(to, cur-batch)
		}
		steps = append(steps, Step{At: time.Duration(i) * interval, Users: cur})
	}
	return steps
}
