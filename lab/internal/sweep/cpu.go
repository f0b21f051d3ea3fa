package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"predictlab/lab/internal/scrape"
)

// Roles of the processes whose CPU a point measures, as sweep.json names them.
const (
	RoleScoring = "scoring"
	RoleModel   = "model"
	RoleStore   = "store"
	RoleLoadgen = "loadgen"
)

// userHZ is the unit of the CPU times in /proc/PID/stat and /proc/stat:
// USER_HZ, fixed at 100 by Linux's ABI whatever the kernel's own tick rate.
const userHZ = 100

// ProcessCPU is CPU time per request answered, in milliseconds, by process.
type ProcessCPU struct {
	Scoring float64 `json:"scoring"`
	Model   float64 `json:"model"`
	Store   float64 `json:"store"`
	Loadgen float64 `json:"loadgen"`
	// Total is the four together: what the model's CPU per request stands for.
	Total float64 `json:"total"`
}

// CPU is what a point's processes and the machine used over the window its
// capacity was measured in, from /proc (Linux only).
type CPU struct {
	PerRequestMS ProcessCPU `json:"per_request_ms"`
	// MachineBusy is the share of the machine's CPU time (all cores) that was
	// not idle (iowait counts as idle), steal included.
	MachineBusy float64 `json:"machine_busy"`
	// OthersBusy is the part of MachineBusy that the point's four processes
	// do not account for: other processes (the lab's own included) and the
	// kernel's work not charged to a process.
	OthersBusy float64 `json:"others_busy"`
	// Steal is the share the hypervisor gave to other guests (0 on bare metal).
	Steal float64 `json:"steal"`
	// Seconds is the window's length as the counters were read, Requests
	// the requests answered in it (the per-request figures' divisor).
	Seconds  float64 `json:"seconds"`
	Requests float64 `json:"requests"`
}

// machineCPU is the first ("cpu") line of /proc/stat, in USER_HZ ticks.
type machineCPU struct {
	Total, Idle, Steal uint64
}

// parseMachineStat reads the aggregate line of /proc/stat: user nice system
// idle iowait irq softirq steal [guest guest_nice]. Guest time is already
// in user and nice, so it is not added again.
func parseMachineStat(b []byte) (machineCPU, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return machineCPU{}, fmt.Errorf("parse /proc/stat: first line %q is not the cpu line", line)
	}
	var v [8]uint64
	for i := 0; i < len(v) && i+1 < len(f); i++ {
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("parse /proc/stat: field %d: %w", i+1, err)
		}
		v[i] = n
	}
	var m machineCPU
	for _, n := range v {
		m.Total += n
	}
	m.Idle, m.Steal = v[3]+v[4], v[7]
	return m, nil
}

// parseProcessStat returns utime + stime of /proc/PID/stat, in USER_HZ
// ticks: the process's CPU, all its threads together. The command name (field 2, in
// parentheses) may hold spaces and parentheses, so fields are counted
// from the last ')'.
func parseProcessStat(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("parse /proc/PID/stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("parse /proc/PID/stat: %d fields after the command name, want at least 13", len(f))
	}
	u, err := strconv.ParseUint(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc/PID/stat: utime: %w", err)
	}
	s, err := strconv.ParseUint(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse /proc/PID/stat: stime: %w", err)
	}
	return u + s, nil
}

// cpuSample is the counters at one instant: each role's process CPU (a
// role is missing when its process was not running or could not be read)
// and the machine's.
type cpuSample struct {
	At      time.Time
	Procs   map[string]uint64
	Machine machineCPU
}

// cpuReader reads the counters; tests replace it.
type cpuReader struct {
	ReadFile func(string) ([]byte, error)
}

func (r cpuReader) sample(at time.Time, pids map[string]int) (cpuSample, error) {
	b, err := r.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, fmt.Errorf("sample cpu: %w", err)
	}
	m, err := parseMachineStat(b)
	if err != nil {
		return cpuSample{}, fmt.Errorf("sample cpu: %w", err)
	}
	s := cpuSample{At: at, Procs: map[string]uint64{}, Machine: m}
	for role, pid := range pids {
		b, err := r.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue // exited, or not started yet
		}
		if t, err := parseProcessStat(b); err == nil {
			s.Procs[role] = t
		}
	}
	return s, nil
}

// cpuSampler reads the counters every interval while a point's loadgen
// runs, so that the window (known only from loadgen's history afterwards)
// can be matched to the nearest readings.
type cpuSampler struct {
	reader   cpuReader
	interval time.Duration
	// pids returns the processes to read now, by role.
	pids func() map[string]int
}

// run samples until ctx ends and returns what it read; nil when /proc
// cannot be read (not Linux).
func (s cpuSampler) run(ctx context.Context) []cpuSample {
	var out []cpuSample
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		smp, err := s.reader.sample(time.Now(), s.pids())
		if err != nil {
			return nil
		}
		out = append(out, smp)
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
	}
}

// nearest returns the sample read closest to unix time at.
func nearest(samples []cpuSample, at float64) cpuSample {
	best := samples[0]
	dist := func(s cpuSample) float64 {
		d := float64(s.At.UnixNano())/1e9 - at
		if d < 0 {
			return -d
		}
		return d
	}
	for _, s := range samples[1:] {
		if dist(s) < dist(best) {
			best = s
		}
	}
	return best
}

// requestsAt is the scoring service's answered-request counter at t,
// interpolated between the /metrics samples around it (false when t is
// outside them or the counter is missing).
func requestsAt(scraped []scrape.Sample, t time.Time) (float64, bool) {
	for i := 1; i < len(scraped); i++ {
		a, b := scraped[i-1], scraped[i]
		if t.Before(a.Time) || t.After(b.Time) {
			continue
		}
		x, okA := a.Values[scrape.RequestsCount]
		y, okB := b.Values[scrape.RequestsCount]
		if !okA || !okB {
			return 0, false
		}
		span := b.Time.Sub(a.Time).Seconds()
		if span <= 0 {
			return y, true
		}
		return x + (y-x)*t.Sub(a.Time).Seconds()/span, true
	}
	return 0, false
}

// CPUOf computes what the point's processes and the machine used over the
// measurement window [from, to] (Unix seconds, loadgen's history), taken
// between the counter readings nearest its ends, per request the scoring
// service answered between those readings (its /metrics counter,
// interpolated to the readings' times; failing that, rps, the rate
// loadgen measured, times their interval). It returns nil when the
// counters do not cover the window (no /proc, or a process not read at
// both ends).
func CPUOf(samples []cpuSample, scraped []scrape.Sample, from, to, rps float64) *CPU {
	if len(samples) < 2 || to <= from {
		return nil
	}
	a, b := nearest(samples, from), nearest(samples, to)
	dt := b.At.Sub(a.At).Seconds()
	if dt <= 0 || b.Machine.Total <= a.Machine.Total {
		return nil
	}
	requests := rps * dt
	x, okA := requestsAt(scraped, a.At)
	y, okB := requestsAt(scraped, b.At)
	if okA && okB && y > x {
		requests = y - x
	}
	if requests <= 0 {
		return nil
	}
	per := map[string]float64{}
	var total float64 // CPU seconds of the four processes
	for _, role := range []string{RoleScoring, RoleModel, RoleStore, RoleLoadgen} {
		x, okA := a.Procs[role]
		y, okB := b.Procs[role]
		if !okA || !okB || y < x {
			return nil
		}
		sec := float64(y-x) / userHZ
		total += sec
		per[role] = sec / requests * 1000
	}
	ticks := float64(b.Machine.Total - a.Machine.Total)
	idle := float64(b.Machine.Idle - a.Machine.Idle)
	busy := 1 - idle/ticks
	c := &CPU{PerRequestMS: ProcessCPU{Scoring: per[RoleScoring], Model: per[RoleModel], Store: per[RoleStore],
		Loadgen: per[RoleLoadgen], Total: total / requests * 1000},
		MachineBusy: busy, Steal: float64(b.Machine.Steal-a.Machine.Steal) / ticks, Seconds: dt, Requests: requests}
	c.OthersBusy = max(0, busy-total*userHZ/ticks)
	return c
}

// samplerFor returns the sampler of one point: its services, by role, and
// its loadgen child, found once it runs as the live child that is not one
// of them (a point's services and loadgen are the only children alive:
// every earlier point's were stopped before it started).
func (s *Sweeper) samplerFor(services map[string]int) cpuSampler {
	loadgenPid := 0 // only the sampler's goroutine calls pids
	isService := map[int]bool{}
	for _, p := range services {
		isService[p] = true
	}
	return cpuSampler{reader: cpuReader{ReadFile: os.ReadFile}, interval: 250 * time.Millisecond, pids: func() map[string]int {
		if loadgenPid == 0 {
			for _, c := range s.sup.Children() {
				select {
				case <-c.Done():
					continue
				default:
				}
				if !isService[c.Pid()] {
					loadgenPid = c.Pid()
				}
			}
		}
		out := map[string]int{}
		for r, p := range services {
			out[r] = p
		}
		if loadgenPid != 0 {
			out[RoleLoadgen] = loadgenPid
		}
		return out
	}}
}
