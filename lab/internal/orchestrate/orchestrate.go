// Package orchestrate runs a whole lab: it starts the feature store and
// the four services as child processes, runs the experiments against the
// sync then the async target (one loadgen child each, see package
// experiment), scrapes the services' internals, stops every child on every
// path and hands the results to package report.
//
// What the lab measured is a results.Results; experiment 3's users come
// from analysis.MaxPerformanceUsers, the same breaking-point computation
// the report states.
package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"predictlab/lab/internal/analysis"
	"predictlab/lab/internal/envinfo"
	"predictlab/lab/internal/experiment"
	"predictlab/lab/internal/jsonnum"
	"predictlab/lab/internal/proc"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/progress"
	"predictlab/lab/internal/report"
	"predictlab/lab/internal/results"
	"predictlab/lab/internal/scrape"
)

// Ports are the services' TCP ports.
type Ports struct {
	SyncModel, SyncScoring, AsyncModel, AsyncScoring, Store int
}

// Config is a lab run's configuration (the `lab run` flags).
type Config struct {
	Profile     profile.Profile
	Out         string
	Only        string // "", "sync" or "async"
	Experiments []int  // subset of 1..4; empty = all
	Bind        string
	Ports       Ports
	External    bool
	SyncURL     string
	AsyncURL    string
	TargetsBin  string
	LoadgenBin  string
	Version     string // the lab's build stamp
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if err := c.Profile.Validate(); err != nil {
		return err
	}
	if c.Only != "" && c.Only != "sync" && c.Only != "async" {
		return fmt.Errorf("validate config: --only must be sync or async, not %q", c.Only)
	}
	for _, n := range c.Experiments {
		if _, ok := c.Profile.Experiment(n); !ok {
			return fmt.Errorf("validate config: no experiment %d (choose from 1,2,3,4)", n)
		}
	}
	if c.Out == "" {
		return errors.New("validate config: empty --out")
	}
	if c.External {
		for _, u := range []string{c.SyncURL, c.AsyncURL} {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				return fmt.Errorf("validate config: --external needs http(s) URLs, got %q", u)
			}
		}
		return nil
	}
	for _, p := range c.portList() {
		if p.Port < 1 || p.Port > 65535 {
			return fmt.Errorf("validate config: port %d for %s out of range", p.Port, p.Service)
		}
	}
	if net.ParseIP(c.Bind) == nil && c.Bind != "localhost" {
		return fmt.Errorf("validate config: --bind %q is not an IP address", c.Bind)
	}
	return nil
}

func (c *Config) targets() []string {
	if c.Only != "" {
		return []string{c.Only}
	}
	return []string{"sync", "async"}
}

func (c *Config) experiments() []int {
	if len(c.Experiments) == 0 {
		return []int{1, 2, 3, 4}
	}
	e := slices.Clone(c.Experiments)
	slices.Sort(e)
	return slices.Compact(e)
}

// portList is the ports the lab will bind, with their services.
func (c *Config) portList() []proc.Port {
	ps := []proc.Port{{Service: "feature store", Port: c.Ports.Store}}
	for _, t := range c.targets() {
		if t == "sync" {
			ps = append(ps, proc.Port{Service: "sync model", Port: c.Ports.SyncModel}, proc.Port{Service: "sync scoring", Port: c.Ports.SyncScoring})
		} else {
			ps = append(ps, proc.Port{Service: "async model", Port: c.Ports.AsyncModel}, proc.Port{Service: "async scoring", Port: c.Ports.AsyncScoring})
		}
	}
	return ps
}

// dialHost is where the lab connects to a service bound on c.Bind.
func (c *Config) dialHost() string {
	if ip := net.ParseIP(c.Bind); ip != nil && ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return c.Bind
}

func (c *Config) url(port int) string {
	return "http://" + net.JoinHostPort(c.dialHost(), strconv.Itoa(port))
}

// Lab runs one lab. Create it with New; call Run once.
type Lab struct {
	cfg Config
	log zerolog.Logger
	pr  *progress.Printer
	sup *proc.Supervisor

	res      *results.Results
	started  time.Time
	planned  time.Duration // experiment time still planned after the current one
	index    int
	count    int
	services map[string]string // service name → base URL
}

// New returns a Lab writing progress to pr and its log to log.
func New(cfg Config, log zerolog.Logger, pr *progress.Printer) *Lab {
	return &Lab{cfg: cfg, log: log, pr: pr, services: map[string]string{}}
}

// Preflight validates c and checks what must hold before anything
// starts: the binaries exist and every port is free. Its errors are one line.
func (c *Config) Preflight() error {
	if err := c.Validate(); err != nil {
		return err
	}
	bins := []string{c.LoadgenBin}
	if !c.External {
		bins = append(bins, c.TargetsBin)
		if err := proc.CheckPorts(c.Bind, c.portList()); err != nil {
			return err
		}
	}
	for _, b := range bins {
		if st, err := os.Stat(b); err != nil || st.IsDir() {
			return fmt.Errorf("preflight: binary %s not found (run make build)", b)
		}
	}
	return nil
}

// Run runs the lab. Closing hurry (the second Ctrl-C) makes the child
// shutdown skip its grace period. The returned Results are always
// non-nil once the output folder exists; the report is written even when
// the run fails or is interrupted.
func (r *Lab) Run(ctx context.Context, hurry <-chan struct{}) (*results.Results, error) {
	cfg := r.cfg
	r.started = time.Now()
	// Wall-clock times only (Round(0) drops the monotonic reading), so
	// a report rebuilt from results.json states the same run length.
	r.res = &results.Results{Profile: cfg.Profile, Started: r.started.Round(0), Status: "complete",
		Env: envinfo.Collect(ctx, cfg.Version),
		Settings: results.Settings{Out: cfg.Out, Bind: cfg.Bind, External: cfg.External, SyncURL: cfg.SyncURL, AsyncURL: cfg.AsyncURL,
			TargetsBin: cfg.TargetsBin, LoadgenBin: cfg.LoadgenBin, Only: cfg.Only, Experiments: cfg.experiments()}}
	if !cfg.External {
		for _, p := range cfg.portList() {
			r.res.Settings.Ports = append(r.res.Settings.Ports, results.Port{Service: p.Service, Port: p.Port})
		}
	}
	r.sup = proc.New(r.log, cfg.Profile.StopGrace)
	watchDone := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		select {
		case <-hurry:
			r.sup.Hurry()
		case <-watchDone:
		}
	}()
	err := r.run(ctx)
	r.pr.Done()
	if err != nil {
		r.pr.Printf("lab: stopping every child process")
	}
	r.sup.StopAll()
	close(watchDone)
	watch.Wait()
	r.res.Ended = time.Now().Round(0)
	switch {
	case err != nil && ctx.Err() != nil:
		r.res.Status, r.res.Error = "interrupted", err.Error()
	case err != nil:
		r.res.Status, r.res.Error = "failed", err.Error()
	}
	if werr := report.Write(cfg.Out, r.res); werr != nil {
		return r.res, errors.Join(err, werr)
	}
	return r.res, err
}

func (r *Lab) run(ctx context.Context) error {
	cfg := r.cfg
	// loadgen always writes its HTML report and the current-window history.
	r.res.Settings.LoadgenHTML, r.res.Settings.LoadgenFullHistory = true, true
	if cfg.External {
		for _, tn := range cfg.targets() {
			u := strings.TrimRight(cfg.SyncURL, "/")
			if tn == "async" {
				u = strings.TrimRight(cfg.AsyncURL, "/")
			}
			if err := proc.WaitHealthy(ctx, nil, u+"/api/v1/healthcheck", cfg.Profile.HealthTimeout); err != nil {
				return fmt.Errorf("external %s target: %w", tn, err)
			}
			r.services[tn+" scoring"] = u
		}
	} else if err := r.startServices(ctx); err != nil {
		return err
	}
	exps := cfg.experiments()
	r.count = len(exps) * len(cfg.targets())
	r.planned = cfg.Profile.Duration(exps) * time.Duration(len(cfg.targets()))
	for _, name := range cfg.targets() {
		if err := r.runTarget(ctx, name, exps); err != nil {
			return err
		}
	}
	return nil
}

func (r *Lab) serviceArgs(t profile.Target, role string, port int) []string {
	cfg := r.cfg
	s := t.Scoring
	if role == "model" {
		s = t.Model
	}
	addr := net.JoinHostPort(cfg.Bind, strconv.Itoa(port))
	args := []string{role, "--style", t.Style, "--framework", t.Framework, "--addr", addr, "--route", t.Route,
		"--workers", strconv.Itoa(s.Workers), "--backlog", strconv.Itoa(s.Backlog), "--loops", strconv.Itoa(s.Loops),
		"--cpu-cost", s.CPUCost.String()}
	if role == "model" {
		return append(args, "--model-delay", s.DelayRange())
	}
	modelPort := cfg.Ports.SyncModel
	if t.Name == "async" {
		modelPort = cfg.Ports.AsyncModel
	}
	return append(args, "--model-url", cfg.url(modelPort),
		"--feature-store", "redis://"+net.JoinHostPort(cfg.dialHost(), strconv.Itoa(cfg.Ports.Store)),
		"--fanout", strconv.Itoa(s.Fanout))
}

func (r *Lab) startServices(ctx context.Context) error {
	cfg := r.cfg
	logs := filepath.Join(cfg.Out, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return fmt.Errorf("start services: %w", err)
	}
	start := func(name string, args []string) (*proc.Child, error) {
		f, err := os.Create(filepath.Join(logs, strings.ReplaceAll(name, " ", "_")+".log"))
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		// The child holds its own descriptor; ours can close now.
		defer f.Close()
		c, err := r.sup.Start(name, cfg.TargetsBin, args, f, f)
		if err != nil {
			return nil, err
		}
		r.res.Settings.Services = append(r.res.Settings.Services, results.Command{Name: name, Args: c.Args})
		return c, nil
	}
	r.pr.Printf("lab: starting the feature store and the services (%s)", cfg.TargetsBin)
	storeAddr := net.JoinHostPort(cfg.dialHost(), strconv.Itoa(cfg.Ports.Store))
	store, err := start("feature store", []string{"featurestore", "--addr", net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Ports.Store))})
	if err != nil {
		return err
	}
	if err := proc.WaitRedis(ctx, store, storeAddr, cfg.Profile.HealthTimeout); err != nil {
		return fmt.Errorf("%w; last log line: %s", err, lastLine(filepath.Join(logs, "feature_store.log")))
	}
	type svc struct {
		name string
		args []string
		url  string
	}
	var svcs []svc
	for _, tn := range cfg.targets() {
		t, _ := cfg.Profile.Target(tn)
		mp, sp := cfg.Ports.SyncModel, cfg.Ports.SyncScoring
		if tn == "async" {
			mp, sp = cfg.Ports.AsyncModel, cfg.Ports.AsyncScoring
		}
		svcs = append(svcs, svc{tn + " model", r.serviceArgs(t, "model", mp), cfg.url(mp)},
			svc{tn + " scoring", r.serviceArgs(t, "scoring", sp), cfg.url(sp)})
	}
	children := make([]*proc.Child, len(svcs))
	for i, s := range svcs {
		c, err := start(s.name, s.args)
		if err != nil {
			return err
		}
		children[i] = c
	}
	for i, s := range svcs {
		if err := proc.WaitHealthy(ctx, children[i], s.url+"/api/v1/healthcheck", cfg.Profile.HealthTimeout); err != nil {
			return fmt.Errorf("%w; last log line: %s", err, lastLine(filepath.Join(logs, strings.ReplaceAll(s.name, " ", "_")+".log")))
		}
		r.services[s.name] = s.url
	}
	r.pr.Printf("lab: %d services healthy; results go to %s", len(svcs)+1, cfg.Out)
	return nil
}

func (r *Lab) runTarget(ctx context.Context, name string, exps []int) error {
	cfg := r.cfg
	pt, _ := cfg.Profile.Target(name)
	url := r.services[name+" scoring"]
	t := &results.Target{Name: name, URL: url, Settings: pt}
	r.res.Targets = append(r.res.Targets, t)
	for _, n := range exps {
		pe, _ := cfg.Profile.Experiment(n)
		e := &results.Experiment{Number: n, Name: pe.Name, File: pe.Name + "_" + name, Users: pe.Users, SpawnRate: pe.SpawnRate,
			RunTime: pe.RunTime, UsersFrom: "profile"}
		if pe.FromBreakpoint {
			e.Users, e.UsersFrom = analysis.MaxPerformanceUsers(t, pe.Users, cfg.Profile.Pacing)
			e.SpawnRate = float64(e.Users)
		}
		t.Experiments = append(t.Experiments, e)
		if err := r.runExperiment(ctx, t, e); err != nil {
			e.Error = err.Error()
			return err
		}
	}
	return nil
}

func (r *Lab) runExperiment(ctx context.Context, t *results.Target, e *results.Experiment) error {
	cfg := r.cfg
	r.index++
	r.planned -= e.RunTime
	spec := experiment.Spec{Name: e.File, Dir: cfg.Out, Loadgen: cfg.LoadgenBin, Host: t.URL, Users: e.Users,
		SpawnRate: e.SpawnRate, RunTime: e.RunTime, UserClass: t.Settings.UserClass, HTML: true, FullHistory: true}
	e.Command = append([]string{cfg.LoadgenBin}, spec.Args()...)
	r.pr.Printf("lab: [%d/%d] %s experiment %d %s: %d users at %g/s for %s", r.index, r.count, t.Name, e.Number, e.Name, e.Users, e.SpawnRate, e.RunTime)

	// Scrape the target's services every second while loadgen runs.
	sctx, stopScrape := context.WithCancel(ctx)
	var wg sync.WaitGroup
	samples := map[string][]scrape.Sample{}
	var mu sync.Mutex
	for _, role := range []string{"scoring", "model"} {
		base, ok := r.services[t.Name+" "+role]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := scrape.Scraper{Service: t.Name + " " + role, URL: base + "/metrics", Interval: time.Second}.Run(sctx)
			mu.Lock()
			samples[role] = s
			mu.Unlock()
		}()
	}
	out, runErr := experiment.Run(ctx, r.sup, spec, func(p experiment.Progress) {
		r.pr.Update(progress.State{Target: t.Name, Number: e.Number, Name: e.Name, Index: r.index, Count: r.count,
			Elapsed: p.Elapsed, Length: e.RunTime, LabElapsed: time.Since(r.started),
			LabTotal: time.Since(r.started) + max(0, e.RunTime-p.Elapsed) + r.planned,
			Users:    p.Users, RPS: p.RPS, P50: p.P50}, time.Now())
	})
	stopScrape()
	wg.Wait()
	r.pr.Done()
	e.Started, e.Ended, e.ExitCode = out.Started, out.Ended, out.ExitCode
	e.LoadAvg = envinfo.LoadAvg()
	if out.JSON != nil {
		e.SelfCheck = out.JSON.SelfCheck
	}
	e.Internals = map[string][]scrape.Point{}
	e.LoopBusySeconds, e.ServerRequests = jsonnum.NaN(), jsonnum.NaN()
	for role, s := range samples {
		e.Internals[role] = scrape.Series(s)
		if role == "scoring" {
			e.LoopBusySeconds = jsonnum.Float(scrape.Delta(s, scrape.LoopBusySeconds))
			e.ServerRequests = jsonnum.Float(scrape.Delta(s, scrape.RequestsCount))
		}
	}
	if err := results.ReadFiles(spec.Prefix(), e, true); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	if s := e.Stats; s != nil {
		r.pr.Printf("lab: %s %s done: %d requests, %d failures, median %.0f ms, %.1f req/s", t.Name, e.Name, s.Requests, s.Failures, s.MedianMS, s.RPS)
	}
	return nil
}

// lastLine is the last non-empty line of a log file (for error messages).
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if l := lines[len(lines)-1]; l != "" {
		return l
	}
	return "(empty log)"
}
