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
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
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

// Config is a lab run's configuration (the `lab run` flags).
type Config struct {
	Profile     profile.Profile
	Out         string
	Only        targetsapi.Target // "" = both targets
	Experiments []int             // subset of 1..4; empty = all
	Bind        string
	Ports       targetsapi.Ports
	External    bool
	SyncURL     string
	AsyncURL    string
	TargetsBin  string
	LoadgenBin  string
	// LoadgenWorkers, when above 0, runs each experiment as one loadgen
	// master and that many local loadgen workers (see package
	// experiment); 0 = one loadgen process.
	LoadgenWorkers int
	Version        string // the lab's build stamp
	// Stated is what the command line stated about External services'
	// parts; the report predicts from it alone (nil = nothing stated).
	Stated *results.Stated
}

// MaxLoadgenWorkers bounds --loadgen-workers: they all run on this
// machine, and more would only share its cores.
const MaxLoadgenWorkers = 64

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if err := c.Profile.Validate(); err != nil {
		return err
	}
	if c.Only != "" {
		if _, err := targetsapi.ParseTarget(string(c.Only)); err != nil {
			return fmt.Errorf("validate config: --only: %w", err)
		}
	}
	for _, n := range c.Experiments {
		if _, ok := c.Profile.Experiment(n); !ok {
			return fmt.Errorf("validate config: no experiment %d (choose from 1,2,3,4)", n)
		}
	}
	if c.Out == "" {
		return errors.New("validate config: empty --out")
	}
	if c.LoadgenWorkers < 0 || c.LoadgenWorkers > MaxLoadgenWorkers {
		return fmt.Errorf("validate config: --loadgen-workers %d out of range (0 to %d)", c.LoadgenWorkers, MaxLoadgenWorkers)
	}
	if st := c.Stated; !st.Empty() && !c.External {
		return errors.New("validate config: --sync-workers, --async-loops, --model-delay, --fanout and --cpu-cost describe external services: use them with --external")
	}
	if st := c.Stated; st != nil {
		for _, n := range []*int{st.SyncWorkers, st.AsyncLoops, st.Fanout} {
			if n != nil && *n < 1 {
				return fmt.Errorf("validate config: --sync-workers, --async-loops and --fanout must be ≥ 1, got %d", *n)
			}
		}
		if st.CPUCost != nil && *st.CPUCost < 0 {
			return fmt.Errorf("validate config: --cpu-cost %s is negative", *st.CPUCost)
		}
		if st.ModelDelay != nil {
			if _, err := targetsapi.ParseDelayRange(*st.ModelDelay); err != nil {
				return fmt.Errorf("validate config: --model-delay: %w", err)
			}
		}
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

func (c *Config) targets() []targetsapi.Target {
	if c.Only != "" {
		return []targetsapi.Target{c.Only}
	}
	return targetsapi.Targets()
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
	ps := []proc.Port{{Service: storeName, Port: c.Ports.Store}}
	for _, t := range c.targets() {
		for _, role := range []targetsapi.Role{targetsapi.Model, targetsapi.Scoring} {
			ps = append(ps, proc.Port{Service: serviceName(t, role), Port: c.Ports.Of(t, role)})
		}
	}
	return ps
}

// storeName names the feature store in logs, errors and the report.
const storeName = "feature store"

// serviceName names a service child ("sync model").
func serviceName(t targetsapi.Target, role targetsapi.Role) string {
	return string(t) + " " + string(role)
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
	services map[string]string      // service name → base URL
	children map[string]*proc.Child // service name → child process (none with External)
	// idleWait bounds the wait for an idle target before each experiment.
	idleWait time.Duration
	// hook, when set (tests), is called at named points of the run, e.g.
	// "experiment sync 2" just before that experiment starts.
	hook func(point string)
	// write writes the report (report.Write; tests that need only
	// results.json skip the charts with report.WriteResults).
	write func(dir string, r *results.Results) error
}

// IdleWait is how long the lab waits, before each experiment, for the
// target to finish what earlier load left in flight; after it the
// experiment starts anyway, and the report says so.
const IdleWait = 30 * time.Second

// New returns a Lab writing progress to pr and its log to log.
func New(cfg Config, log zerolog.Logger, pr *progress.Printer) *Lab {
	return &Lab{cfg: cfg, log: log, pr: pr, services: map[string]string{}, children: map[string]*proc.Child{}, idleWait: IdleWait,
		write: report.Write}
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
// shutdown skip its grace period, and Run then writes results.json alone
// (lab report renders the rest from it). The returned Results are always
// non-nil once the output folder exists; the report is written even when
// the run fails, is interrupted or panics. The status is "complete" only
// when every experiment ran and gave a result; Run then returns nil.
func (r *Lab) Run(ctx context.Context, hurry <-chan struct{}) (*results.Results, error) {
	cfg := r.cfg
	r.started = time.Now()
	// Wall-clock times only (Round(0) drops the monotonic reading), so
	// a report rebuilt from results.json states the same run length.
	r.res = &results.Results{Profile: cfg.Profile, Started: r.started.Round(0), Status: "complete",
		Env: envinfo.Collect(ctx, cfg.Version),
		Settings: results.Settings{Out: cfg.Out, Bind: cfg.Bind, External: cfg.External, SyncURL: cfg.SyncURL, AsyncURL: cfg.AsyncURL,
			TargetsBin: cfg.TargetsBin, LoadgenBin: cfg.LoadgenBin, Only: string(cfg.Only), Experiments: cfg.experiments(),
			LoadgenWorkers: cfg.LoadgenWorkers, Stated: cfg.Stated}}
	if cfg.External {
		// The profile's service settings describe services the lab would
		// start; external ones are known only as stated.
		for _, t := range []*profile.Target{&r.res.Profile.Sync, &r.res.Profile.Async} {
			t.Scoring, t.Model = profile.Service{}, profile.Service{}
		}
	}
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
	err := r.runRecovered(ctx)
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
	default:
		if failed := failedExperiments(r.res); len(failed) > 0 {
			err = fmt.Errorf("run lab: no result from %s", strings.Join(failed, "; "))
			r.res.Status, r.res.Error = "failed", err.Error()
		}
	}
	write := r.write
	select {
	case <-hurry:
		// The second signal: the user wants out now, and the process
		// has only a moment left. results.json alone is quick, and lab
		// report DIR renders the rest later.
		write = report.WriteResults
		r.pr.Printf("lab: wrote results.json only; lab report %s renders the report from it", cfg.Out)
	default:
	}
	if werr := writeReport(write, cfg.Out, r.res, r.log); werr != nil {
		return r.res, errors.Join(err, werr)
	}
	return r.res, err
}

// runRecovered is run, with a panic turned into an error so that Run
// still stops every child and writes the partial report.
func (r *Lab) runRecovered(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error().Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Msg("lab panicked")
			err = fmt.Errorf("run lab: internal error (panic: %v; the stack is in lab.log)", v)
		}
	}()
	return r.run(ctx)
}

// writeReport writes the report; should rendering panic on unexpected
// data, it still writes results.json (without the analysis).
func writeReport(write func(string, *results.Results) error, dir string, res *results.Results, log zerolog.Logger) (err error) {
	defer func() {
		if v := recover(); v != nil {
			log.Error().Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Msg("report panicked")
			err = fmt.Errorf("write report: internal error (panic: %v; the stack is in lab.log)", v)
			for _, t := range res.Targets {
				t.Analysis = nil
			}
			if b, merr := results.Marshal(res); merr == nil {
				_ = os.WriteFile(filepath.Join(dir, results.FileName), b, 0o644)
			}
		}
	}()
	return write(dir, res)
}

// failedExperiments lists the experiments that gave no result.
func failedExperiments(res *results.Results) []string {
	var out []string
	for _, t := range res.Targets {
		for _, e := range t.Experiments {
			if e.Failed != "" {
				out = append(out, fmt.Sprintf("%s experiment %d %s (%s)", t.Name, e.Number, e.Name, e.Failed))
			}
		}
	}
	return out
}

func (r *Lab) run(ctx context.Context) error {
	cfg := r.cfg
	// loadgen always writes its HTML report and the current-window history.
	r.res.Settings.LoadgenHTML, r.res.Settings.LoadgenFullHistory = true, true
	if cfg.External {
		for _, tn := range cfg.targets() {
			u := strings.TrimRight(cfg.SyncURL, "/")
			if tn == targetsapi.Async {
				u = strings.TrimRight(cfg.AsyncURL, "/")
			}
			if err := proc.WaitHealthy(ctx, nil, u+targetsapi.HealthPath, cfg.Profile.HealthTimeout); err != nil {
				return fmt.Errorf("external %s target: %w", tn, err)
			}
			r.services[serviceName(tn, targetsapi.Scoring)] = u
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

// serviceArgs is the targets command line of target t's service in role.
func (r *Lab) serviceArgs(t profile.Target, role targetsapi.Role) []string {
	cfg := r.cfg
	tt := targetsapi.Target(t.Name)
	s := t.Scoring
	if role == targetsapi.Model {
		s = t.Model
	}
	api := s.API(role, t)
	api.Addr = net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Ports.Of(tt, role)))
	if role == targetsapi.Scoring {
		api.ModelURL = cfg.url(cfg.Ports.Of(tt, targetsapi.Model))
		api.FeatureStore = "redis://" + net.JoinHostPort(cfg.dialHost(), strconv.Itoa(cfg.Ports.Store))
	}
	return api.Args()
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
		r.children[name] = c
		r.res.Settings.Services = append(r.res.Settings.Services, results.Command{Name: name, Args: c.Args})
		return c, nil
	}
	r.pr.Printf("lab: starting the feature store and the services (%s)", cfg.TargetsBin)
	storeAddr := net.JoinHostPort(cfg.dialHost(), strconv.Itoa(cfg.Ports.Store))
	store, err := start(storeName, targetsapi.Store{Addr: net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Ports.Store))}.Args())
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
		t, _ := cfg.Profile.Target(string(tn))
		for _, role := range []targetsapi.Role{targetsapi.Model, targetsapi.Scoring} {
			svcs = append(svcs, svc{serviceName(tn, role), r.serviceArgs(t, role), cfg.url(cfg.Ports.Of(tn, role))})
		}
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
		if err := proc.WaitHealthy(ctx, children[i], s.url+targetsapi.HealthPath, cfg.Profile.HealthTimeout); err != nil {
			return fmt.Errorf("%w; last log line: %s", err, lastLine(filepath.Join(logs, strings.ReplaceAll(s.name, " ", "_")+".log")))
		}
		r.services[s.name] = s.url
	}
	r.pr.Printf("lab: %d services healthy; results go to %s", len(svcs)+1, cfg.Out)
	return nil
}

func (r *Lab) runTarget(ctx context.Context, tn targetsapi.Target, exps []int) error {
	cfg := r.cfg
	name := string(tn)
	pt, _ := cfg.Profile.Target(name)
	url := r.services[serviceName(tn, targetsapi.Scoring)]
	if cfg.External {
		pt.Scoring, pt.Model = profile.Service{}, profile.Service{} // not known: see Stated
	}
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
		if r.hook != nil {
			r.hook(fmt.Sprintf("experiment %s %d", name, n))
		}
		if err := r.runExperiment(ctx, t, e); err != nil {
			e.Error = err.Error()
			return err
		}
	}
	return nil
}

// runExperiment runs one experiment: it waits for an idle target, then
// runs loadgen while scraping the target's services. A service that exits
// meanwhile ends the experiment at once and fails the run. An experiment
// that gives no result (analysis.Failure) is marked and the run goes on.
func (r *Lab) runExperiment(ctx context.Context, t *results.Target, e *results.Experiment) error {
	cfg := r.cfg
	r.index++
	r.planned -= e.RunTime
	spec := experiment.Spec{Name: e.File, Dir: cfg.Out, Loadgen: cfg.LoadgenBin, Host: t.URL, Users: e.Users,
		SpawnRate: e.SpawnRate, RunTime: e.RunTime, UserClass: t.Settings.UserClass, HTML: true, FullHistory: true}
	how := ""
	if n := cfg.LoadgenWorkers; n > 0 {
		// A free port per experiment: the last experiment's master may
		// still hold its own while its socket closes.
		port, err := proc.FreePort(experiment.MasterHost)
		if err != nil {
			e.Failed = err.Error()
			return err
		}
		spec.Workers, spec.MasterPort = n, port
		how = fmt.Sprintf(" (loadgen master + %d workers)", n)
	}
	e.Command = append([]string{cfg.LoadgenBin}, spec.Args()...)
	for i := range spec.Workers {
		e.Workers = append(e.Workers, results.Worker{Command: append([]string{cfg.LoadgenBin}, spec.WorkerArgs()...),
			Log: spec.LogName(i + 1), ExitCode: -1})
	}
	r.pr.Printf("lab: [%d/%d] %s experiment %d %s: %d users at %g/s for %s%s", r.index, r.count, t.Name, e.Number, e.Name, e.Users, e.SpawnRate, e.RunTime, how)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopWatch := r.watchServices(ctx, cancel)
	defer stopWatch()
	e.StartState = r.waitIdle(ctx, t)
	if err := serviceExit(ctx); err != nil {
		e.Failed = err.Error()
		return err
	}

	// Scrape the target's services every second while loadgen runs.
	sctx, stopScrape := context.WithCancel(ctx)
	var wg sync.WaitGroup
	samples := map[string][]scrape.Sample{}
	var mu sync.Mutex
	for _, role := range []targetsapi.Role{targetsapi.Scoring, targetsapi.Model} {
		name := serviceName(targetsapi.Target(t.Name), role)
		base, ok := r.services[name]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := scrape.Scraper{Service: name, URL: base + targetsapi.MetricsPath, Interval: time.Second}.Run(sctx)
			mu.Lock()
			samples[string(role)] = s
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
	for i, code := range out.WorkerExits {
		e.Workers[i].ExitCode = code
	}
	e.LoadAvg = envinfo.LoadAvg()
	if out.JSON != nil {
		e.SelfCheck = out.JSON.SelfCheck
	}
	e.Internals = map[string][]scrape.Point{}
	e.LoopBusySeconds, e.ServerRequests = jsonnum.NaN(), jsonnum.NaN()
	for role, s := range samples {
		e.Internals[role] = scrape.Series(s)
		if role == string(targetsapi.Scoring) {
			e.LoopBusySeconds = jsonnum.Float(scrape.Delta(s, targetsapi.MetricLoopBusySeconds))
			e.ServerRequests = jsonnum.Float(scrape.Delta(s, scrape.RequestsCount))
		}
	}
	if err := serviceExit(ctx); err != nil {
		e.Failed = err.Error()
		runErr = err
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
	if e.Failed = analysis.Failure(e); e.Failed != "" {
		r.pr.Printf("lab: %s %s gave no result (%s); nothing is concluded from it", t.Name, e.Name, e.Failed)
	}
	return nil
}

// ServiceExitError says that a service the lab started exited during a run.
type ServiceExitError struct {
	Service string
	At      time.Time
	Err     error // the exit status (nil for status 0)
}

func (e *ServiceExitError) Error() string {
	status := "exit status 0"
	if e.Err != nil {
		status = e.Err.Error()
	}
	return fmt.Sprintf("%s exited at %s (%s)", e.Service, e.At.UTC().Format("15:04:05"), status)
}

// serviceExit returns the ServiceExitError that cancelled ctx, if any.
func serviceExit(ctx context.Context) error {
	var se *ServiceExitError
	if errors.As(context.Cause(ctx), &se) {
		return se
	}
	return nil
}

// watchServices cancels ctx with a *ServiceExitError as soon as one of the
// services the lab started exits. The returned func stops the watch and
// waits for it.
func (r *Lab) watchServices(ctx context.Context, cancel context.CancelCauseFunc) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for name, c := range r.children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-c.Done():
				err := &ServiceExitError{Service: name, At: time.Now(), Err: c.Err()}
				r.log.Error().Str("child", name).Err(c.Err()).Msg("service exited during the run")
				cancel(err)
			case <-stop:
			case <-ctx.Done():
			}
		}()
	}
	return func() {
		close(stop)
		wg.Wait()
	}
}

// waitIdle waits until t's scoring service reports nothing in flight on
// /metrics, for at most r.idleWait, and returns what it read last, just
// before loadgen starts. A service without that metric (an external one
// whose /metrics answers 404, or lacks it) is probed instead: waitIdle
// waits until one predict request answers within twice experiment 1's
// median (or at all, before experiment 1 has run).
func (r *Lab) waitIdle(ctx context.Context, t *results.Target) *results.StartState {
	name := serviceName(targetsapi.Target(t.Name), targetsapi.Scoring)
	base := r.services[name]
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	deadline := start.Add(r.idleWait)
	st := &results.StartState{Inflight: jsonnum.NaN()}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	noted := false
	probing := false // the service exports no predictlab_inflight_requests: probe it instead
	for {
		busy := true
		if !probing {
			m, err := scrape.Read(ctx, client, base+targetsapi.MetricsPath)
			var se *scrape.StatusError
			switch {
			case err == nil && hasKey(m, targetsapi.MetricInflight):
				st.Inflight = jsonnum.Float(m[targetsapi.MetricInflight])
				busy = m[targetsapi.MetricInflight] > 0
			case err == nil, errors.As(err, &se) && se.Code == http.StatusNotFound:
				probing = true
			}
			// Any other error (a timeout from a busy service, a refused
			// connection) counts as busy: read /metrics again.
		}
		if probing {
			ms, ok := r.probe(ctx, t, base)
			if !math.IsNaN(ms) {
				st.ProbeMS = &ms
			}
			busy = !ok
		}
		st.WaitedMS = time.Since(start).Milliseconds()
		if !busy {
			return st
		}
		if time.Now().After(deadline) {
			st.TimedOut = true
			r.pr.Printf("lab: %s is still busy after %s (%s in flight); starting anyway", name, r.idleWait, fmtInflight(st.Inflight))
			return st
		}
		if !noted && time.Since(start) > time.Second {
			noted = true
			r.pr.Printf("lab: waiting for %s to finish the requests left in flight (%s)", name, fmtInflight(st.Inflight))
		}
		select {
		case <-ctx.Done():
			return st
		case <-tick.C:
		}
	}
}

func hasKey(m map[string]float64, k string) bool {
	_, ok := m[k]
	return ok
}

func fmtInflight(v jsonnum.Float) string {
	if !v.Valid() {
		return "unknown"
	}
	return strconv.FormatFloat(float64(v), 'f', 0, 64)
}

// probeBody is the seed's input, as the user classes send it.
const probeBody = "[5.1, 3.5, 1.4, 0.2]"

// probe sends one predict request to t and says whether it answered 2xx
// in time: within twice experiment 1's median, or at all before
// experiment 1 has a result. It returns the response time in ms.
func (r *Lab) probe(ctx context.Context, t *results.Target, base string) (float64, bool) {
	limit := time.Duration(0)
	if e := t.Find(1); e != nil && e.Failed == "" && e.Stats != nil && e.Stats.MedianMS > 0 {
		limit = time.Duration(2 * e.Stats.MedianMS * float64(time.Millisecond))
	}
	client := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+targetsapi.Target(t.Settings.Route).PredictPath(), strings.NewReader(probeBody))
	if err != nil {
		return math.NaN(), false
	}
	req.Header.Set("Content-Type", "application/json")
	began := time.Now()
	resp, err := client.Do(req)
	took := time.Since(began)
	ms := float64(took) / float64(time.Millisecond)
	if err != nil {
		return ms, false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return ms, resp.StatusCode/100 == 2 && (limit == 0 || took <= limit)
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
