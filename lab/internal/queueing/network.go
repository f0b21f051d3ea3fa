package queueing

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Styles of a service, as the targets name them.
const (
	StyleBlocking  = "blocking"
	StyleEventLoop = "eventloop"
)

// Station names, as the sweep's report and sweep.json show them.
const (
	StationScoringPool = "scoring pool"
	StationScoringLoop = "scoring event loop"
	StationModelPool   = "model pool"
	StationModelLoop   = "model event loop"
	StationCPU         = "CPU"
)

// Default costs the network adds to the configured ones. They are the Go
// services' own work, measured on the lab's 2-core machine (processes' utime +
// stime from /proc over 10 s of steady load, per request answered).
const (
	// DefaultFeatureFetch is the feature-store round trip (a loopback Redis GET).
	DefaultFeatureFetch = 500 * time.Microsecond
	// DefaultRequestCPU is the CPU one scoring request costs across every
	// process on the machine beyond the configured --cpu-cost: HTTP and JSON
	// in the scoring and model services, the feature store and the load
	// generator. Measured: 0.96 ms per request at 90 req/s with no CPU cost
	// (scoring 0.52, model 0.34, store 0.07, loadgen 0.08). At the low rates
	// where the CPU is a bottleneck a request shares few wake-ups with others,
	// so the figure at 90 req/s is the one that matters, not a high-rate one.
	DefaultRequestCPU = 1 * time.Millisecond
	// CPUCostFactor is the process CPU one millisecond of configured
	// --cpu-cost takes. The services burn the cost on the thread's own CPU
	// clock, read with a raw system call every microsecond or so; the process
	// spends a little more than the clock shows (the Go runtime's other
	// threads keeping time and preempting the spin). Measured on the 2-core VM
	// under a load average of 13-19: 1.01-1.02 for two locked 20 ms burners
	// alone, and 20.8-21.0 ms of scoring CPU per request at c = 20 ms with
	// two loops (40 s windows), less the 0.5 ms the service spends without a
	// cost. Before the clock was read with a raw call it was 1.05-1.06 on the
	// quiet VM and 1.13 under that load (23.2 ms per request): Go's monitor
	// thread kept taking the burner's P while it sat in the system call.
	CPUCostFactor = 1.02
	// DefaultLoopCPU is the part of it a scoring event loop runs per
	// request (parse, the feature GET's callback, the replies).
	DefaultLoopCPU = 100 * time.Microsecond
	// DefaultModelLoopCPU is what a model event loop runs per call.
	DefaultModelLoopCPU = 20 * time.Microsecond
)

// Service is one service of a target as the model needs it.
type Service struct {
	Style   string        // StyleBlocking or StyleEventLoop
	Workers int           // blocking: pool size W
	Loops   int           // event loop: number of loops L
	CPU     time.Duration // configured busy work per request (per call for a model)
}

// Network is one target (a scoring service and its model service) on a
// machine, with the costs the model adds to the configured ones. Build it
// with NewNetwork (defaults filled), or fill every field.
type Network struct {
	Scoring Service
	Model   Service
	// Fanout is the number of model calls per scoring request. A blocking
	// scoring service makes them one after the other, an event loop all
	// at once.
	Fanout int
	// ModelDelayMin and ModelDelayMax bound the model's uniform delay.
	ModelDelayMin, ModelDelayMax time.Duration
	// Cores is the number of CPU cores every process shares.
	Cores int
	// FeatureFetch, RequestCPU, LoopCPU and ModelLoopCPU: see the Default
	// constants of the same names.
	FeatureFetch, RequestCPU, LoopCPU, ModelLoopCPU time.Duration
}

// NewNetwork returns a Network with the default overheads filled in.
func NewNetwork(scoring, model Service, fanout int, delayMin, delayMax time.Duration, cores int) Network {
	return Network{Scoring: scoring, Model: model, Fanout: fanout, ModelDelayMin: delayMin, ModelDelayMax: delayMax,
		Cores: cores, FeatureFetch: DefaultFeatureFetch, RequestCPU: DefaultRequestCPU,
		LoopCPU: DefaultLoopCPU, ModelLoopCPU: DefaultModelLoopCPU}
}

// Validate reports a setting the model cannot use.
func (n Network) Validate() error {
	for _, s := range []Service{n.Scoring, n.Model} {
		switch {
		case s.Style != StyleBlocking && s.Style != StyleEventLoop:
			return fmt.Errorf("validate network: style %q: want %s or %s", s.Style, StyleBlocking, StyleEventLoop)
		case s.Style == StyleBlocking && s.Workers < 1, s.Style == StyleEventLoop && s.Loops < 1:
			return fmt.Errorf("validate network: %s service needs at least one worker or loop", s.Style)
		case s.CPU < 0:
			return fmt.Errorf("validate network: negative CPU cost %s", s.CPU)
		}
	}
	if n.Fanout < 1 || n.Cores < 1 || n.ModelDelayMin < 0 || n.ModelDelayMax < n.ModelDelayMin {
		return fmt.Errorf("validate network: fanout and cores ≥ 1 and 0 ≤ delay min ≤ max required")
	}
	return nil
}

// Station is one station's capacity: the throughput the target would have
// if that station were its only limit.
type Station struct {
	Name        string  `json:"name"`
	CapacityRPS float64 `json:"capacity_rps"`
	// Formula is the capacity with its numbers, e.g. "W / E[S] = 8 / 90.5 ms".
	Formula string `json:"-"`
}

// Capacity is the network's prediction.
type Capacity struct {
	// PredictedRPS is the target's predicted capacity in requests per
	// second. It is never above the smallest station capacity; for a
	// blocking scoring pool it is the closed network's throughput (exact
	// MVA with the pool's W workers as customers), which is lower when the
	// workers queue for the cores.
	PredictedRPS float64
	// Bottleneck names the station with the smallest capacity.
	Bottleneck string
	// Stations lists every station's capacity, in a fixed order.
	Stations []Station
	// ServiceMS is E[S], a blocking scoring worker's service time without
	// contention (0 for an event-loop scoring service).
	ServiceMS float64
	// CPUWaitMS and ModelWaitMS are the mean times a blocking scoring
	// request waits for a core and for model workers, from the MVA (0 when
	// not computed).
	CPUWaitMS, ModelWaitMS float64
	// Explanation is one sentence: the bottleneck and why.
	Explanation string
	// Cores is the core count the prediction assumed.
	Cores int
}

// Station returns the station called name (false when the network has none).
func (c Capacity) Station(name string) (Station, bool) {
	for _, s := range c.Stations {
		if s.Name == name {
			return s, true
		}
	}
	return Station{}, false
}

// MeanDelay is E[D], one model call's mean delay.
func (n Network) MeanDelay() time.Duration { return (n.ModelDelayMin + n.ModelDelayMax) / 2 }

// CPUPerRequest is the CPU one scoring request costs across all processes:
// the configured scoring cost and fanout model calls' configured cost, each
// as the process CPU it takes (CPUCostFactor), and the services' own work
// (RequestCPU).
func (n Network) CPUPerRequest() time.Duration {
	configured := n.Scoring.CPU + time.Duration(n.Fanout)*n.Model.CPU
	return time.Duration(float64(configured)*CPUCostFactor) + n.RequestCPU
}

// Predict computes every station's capacity and the target's.
func (n Network) Predict() (Capacity, error) {
	if err := n.Validate(); err != nil {
		return Capacity{}, err
	}
	c := Capacity{Cores: n.Cores}
	f := float64(n.Fanout)
	ed := n.MeanDelay()
	if n.Scoring.Style == StyleBlocking {
		// The worker is held through the feature fetch, the model calls
		// one after the other (each a delay plus the model's CPU) and the
		// scoring CPU.
		s := n.FeatureFetch + time.Duration(n.Fanout)*(ed+n.Model.CPU) + n.Scoring.CPU
		c.ServiceMS = msOf(s)
		c.Stations = append(c.Stations, Station{Name: StationScoringPool, CapacityRPS: float64(n.Scoring.Workers) / s.Seconds(),
			Formula: fmt.Sprintf("W / E[S] = %d / %.1f ms", n.Scoring.Workers, msOf(s))})
	} else {
		lc := n.Scoring.CPU + n.LoopCPU
		c.Stations = append(c.Stations, Station{Name: StationScoringLoop, CapacityRPS: float64(n.Scoring.Loops) / lc.Seconds(),
			Formula: fmt.Sprintf("L / c = %d / %.2f ms", n.Scoring.Loops, msOf(lc))})
	}
	if n.Model.Style == StyleBlocking {
		hold := ed + n.Model.CPU
		c.Stations = append(c.Stations, Station{Name: StationModelPool, CapacityRPS: float64(n.Model.Workers) / (f * hold.Seconds()),
			Formula: fmt.Sprintf("W_m / (E[D] × fanout) = %d / (%.1f ms × %d)", n.Model.Workers, msOf(hold), n.Fanout)})
	} else {
		lc := n.Model.CPU + n.ModelLoopCPU
		c.Stations = append(c.Stations, Station{Name: StationModelLoop, CapacityRPS: float64(n.Model.Loops) / (f * lc.Seconds()),
			Formula: fmt.Sprintf("L_m / (c_m × fanout) = %d / (%.2f ms × %d)", n.Model.Loops, msOf(lc), n.Fanout)})
	}
	cpu := n.CPUPerRequest()
	c.Stations = append(c.Stations, Station{Name: StationCPU, CapacityRPS: float64(n.Cores) / cpu.Seconds(),
		Formula: fmt.Sprintf("cores / CPU per request = %d / %.2f ms", n.Cores, msOf(cpu))})

	best := c.Stations[0]
	for _, s := range c.Stations[1:] {
		if s.CapacityRPS < best.CapacityRPS {
			best = s
		}
	}
	c.Bottleneck, c.PredictedRPS = best.Name, best.CapacityRPS
	if n.Scoring.Style == StyleBlocking {
		x, cpuWait, modelWait := n.closedNetwork()
		c.CPUWaitMS, c.ModelWaitMS = cpuWait, modelWait
		c.PredictedRPS = math.Min(c.PredictedRPS, x)
	}
	c.Explanation = n.explain(c, best)
	return c, nil
}

// closedNetwork solves a blocking scoring service as a closed network whose
// customers are its W busy workers (at capacity every worker is busy and
// the next request is already queued, so think time is 0): the CPU is a
// queue with Cores servers, a blocking model pool a queue with W_m servers,
// the rest a delay. It returns the throughput and the mean waits for a core
// and for model workers, in milliseconds.
func (n Network) closedNetwork() (x, cpuWaitMS, modelWaitMS float64) {
	cpu := n.CPUPerRequest()
	ed := n.MeanDelay()
	delay := n.FeatureFetch
	model := Center{}
	if n.Model.Style == StyleBlocking {
		model = Center{Demand: float64(n.Fanout) * ed.Seconds(), Servers: n.Model.Workers}
	} else {
		delay += time.Duration(n.Fanout) * ed
	}
	centers := []Center{{Demand: cpu.Seconds(), Servers: n.Cores}, model, {Demand: delay.Seconds()}}
	x, r := MVA(centers, n.Scoring.Workers, 0)
	return x, math.Max(0, r[0]-centers[0].Demand) * 1000, math.Max(0, r[1]-centers[1].Demand) * 1000
}

func (n Network) explain(c Capacity, best Station) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is the bottleneck: %s = %.1f req/s", best.Name, best.Formula, best.CapacityRPS)
	if c.PredictedRPS < best.CapacityRPS*0.99 {
		var waits []string
		if c.CPUWaitMS >= 0.05 {
			waits = append(waits, fmt.Sprintf("%.1f ms for one of %d cores", c.CPUWaitMS, n.Cores))
		}
		if c.ModelWaitMS >= 0.05 {
			waits = append(waits, fmt.Sprintf("%.1f ms for model workers", c.ModelWaitMS))
		}
		fmt.Fprintf(&b, "; the %d scoring workers also wait (mean-value analysis of the closed network: %s), so %.1f req/s",
			n.Scoring.Workers, strings.Join(waits, ", "), c.PredictedRPS)
	}
	return b.String()
}
