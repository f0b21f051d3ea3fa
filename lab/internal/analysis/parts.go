package analysis

import (
	"strings"
	"time"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/results"
)

// Parts is what the lab knows of one target's parts, the inputs of its
// floor and its predictions. For services the lab started it knows all
// of them (the profile's settings). For external services (--external)
// it knows only what was stated on the command line (results.Stated):
// a missing part stays unknown, and whatever needs it says why instead
// of falling back on the lab's own defaults.
type Parts struct {
	// External is set when the parts come from the command line.
	External bool
	// Workers (blocking) and Loops (event loop) of the scoring service;
	// 0 = unknown.
	Workers, Loops int
	// Fanout is the model calls per scoring request; 0 = unknown.
	Fanout int
	// Delay is the model calls' delay range, known when DelayKnown.
	Delay      targetsapi.DelayRange
	DelayKnown bool
	// CPU is the scoring service's CPU per request, known when CPUKnown.
	CPU      time.Duration
	CPUKnown bool
	// ModelLoops and ModelCPU are the model service's, known only for
	// services the lab started (ModelKnown).
	ModelLoops int
	ModelCPU   time.Duration
	ModelKnown bool
}

// PartsOf returns what r's run knows of target t's parts.
func PartsOf(r *results.Results, t *results.Target) Parts {
	s := t.Settings
	if !r.Settings.External {
		return Parts{Workers: s.Scoring.Workers, Loops: s.Scoring.Loops, Fanout: s.Scoring.Fanout,
			Delay: targetsapi.DelayRange{Min: s.Model.ModelDelayMin, Max: s.Model.ModelDelayMax}, DelayKnown: true,
			CPU: s.Scoring.CPUCost, CPUKnown: true, ModelLoops: s.Model.Loops, ModelCPU: s.Model.CPUCost, ModelKnown: true}
	}
	p := Parts{External: true}
	st := r.Settings.Stated
	if st == nil {
		return p
	}
	if st.SyncWorkers != nil {
		p.Workers = *st.SyncWorkers
	}
	if st.AsyncLoops != nil {
		p.Loops = *st.AsyncLoops
	}
	if st.Fanout != nil {
		p.Fanout = *st.Fanout
	}
	if st.ModelDelay != nil {
		if d, err := targetsapi.ParseDelayRange(*st.ModelDelay); err == nil {
			p.Delay, p.DelayKnown = d, true
		}
	}
	if st.CPUCost != nil {
		p.CPU, p.CPUKnown = *st.CPUCost, true
	}
	return p
}

// missing says why something needing the flags named in need is unknown
// ("--external and no --sync-workers given"), or "" when every one is known.
func (p Parts) missing(need ...string) string {
	var no []string
	for _, f := range need {
		known := true
		switch f {
		case "--sync-workers":
			known = p.Workers > 0
		case "--async-loops":
			known = p.Loops > 0
		case "--fanout":
			known = p.Fanout > 0
		case "--model-delay":
			known = p.DelayKnown
		case "--cpu-cost":
			known = p.CPUKnown
		}
		if !known {
			no = append(no, f)
		}
	}
	if len(no) == 0 {
		return ""
	}
	return "--external and no " + strings.Join(no, " or ") + " given"
}
