package sweep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/loadgenjson"
	"predictlab/internal/locustcsv"
	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/envinfo"
	"predictlab/lab/internal/experiment"
	"predictlab/lab/internal/proc"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/queueing"
	"predictlab/lab/internal/scrape"
)

// Timing is how long each point runs, by sweep profile.
type Timing struct {
	Name string
	// RunTime is loadgen's -t; Ramp the time over which the users start.
	RunTime, Ramp time.Duration
	// Warmup is left out of the measurement after the last user started.
	Warmup time.Duration
	// MaxUsers caps the offered load; a point whose prediction needs more
	// is measured at MaxUsers / pacing and shows as generator-bound.
	MaxUsers int
	Summary  string
}

// Timings lists the sweep profiles.
func Timings() []Timing {
	return []Timing{
		{Name: "quick", RunTime: 16 * time.Second, Ramp: 2 * time.Second, Warmup: 5 * time.Second, MaxUsers: 1200,
			Summary: "16 s per point, measured over its last ~9 s (4 values × 2 targets ≈ 3 min)"},
		{Name: "full", RunTime: 60 * time.Second, Ramp: 5 * time.Second, Warmup: 15 * time.Second, MaxUsers: 3000,
			Summary: "60 s per point, measured over its last ~40 s"},
		{Name: "smoke", RunTime: 6 * time.Second, Ramp: time.Second, Warmup: 2 * time.Second, MaxUsers: 200,
			Summary: "6 s per point, for tests"},
	}
}

// LookupTiming returns the sweep profile called name.
func LookupTiming(name string) (Timing, error) {
	var names []string
	for _, t := range Timings() {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Timing{}, fmt.Errorf("look up sweep profile %q: unknown (choose one of %s)", name, strings.Join(names, ", "))
}

// Headroom is how far above the prediction the offered load goes.
const Headroom = 1.3

// Config is a sweep's configuration (the `lab sweep` flags).
type Config struct {
	Knob    Knob
	Values  []Setting
	Targets []string  // targetsapi.Target names
	Sets    []Setting // fixed for the whole sweep
	Timing  Timing
	Out     string
	Bind    string
	Ports   targetsapi.Ports
	// TargetsBin and LoadgenBin are the binaries the lab drives as children.
	TargetsBin, LoadgenBin string
	// Cores is the CPU count the prediction assumes (runtime.NumCPU by default).
	Cores   int
	Version string // the lab's build stamp
	// Command is the command line, recorded in the report.
	Command []string
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if len(c.Values) == 0 {
		return errors.New("validate sweep: no values")
	}
	if len(c.Targets) == 0 {
		return errors.New("validate sweep: no targets")
	}
	for _, t := range c.Targets {
		if _, err := targetsapi.ParseTarget(t); err != nil {
			return fmt.Errorf("validate sweep: %w", err)
		}
	}
	for _, s := range c.Sets {
		if s.Knob == c.Knob.Name {
			return fmt.Errorf("validate sweep: --set %s fixes the knob being swept", s.Knob)
		}
	}
	if c.Out == "" || c.Cores < 1 {
		return errors.New("validate sweep: --out and cores ≥ 1 required")
	}
	if net.ParseIP(c.Bind) == nil && c.Bind != "localhost" {
		return fmt.Errorf("validate sweep: --bind %q is not an IP address", c.Bind)
	}
	for _, p := range c.portList() {
		if p.Port < 1 || p.Port > 65535 {
			return fmt.Errorf("validate sweep: port %d for %s out of range", p.Port, p.Service)
		}
	}
	return nil
}

func (c *Config) portList() []proc.Port {
	ps := []proc.Port{{Service: "feature store", Port: c.Ports.Store}}
	for _, t := range c.Targets {
		m, s := c.ports(t)
		ps = append(ps, proc.Port{Service: t + " model", Port: m}, proc.Port{Service: t + " scoring", Port: s})
	}
	return ps
}

func (c *Config) ports(target string) (model, scoring int) {
	t := targetsapi.Target(target)
	return c.Ports.Of(t, targetsapi.Model), c.Ports.Of(t, targetsapi.Scoring)
}

// dialHost is where the lab connects to a service bound on c.Bind.
func (c *Config) dialHost() string {
	if ip := net.ParseIP(c.Bind); ip != nil && ip.IsUnspecified() {
		return "127.0.0.1"
	}
	return c.Bind
}

// Preflight validates c and checks the binaries and ports before anything starts.
func (c *Config) Preflight() error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := proc.CheckPorts(c.Bind, c.portList()); err != nil {
		return err
	}
	for _, b := range []string{c.TargetsBin, c.LoadgenBin} {
		if st, err := os.Stat(b); err != nil || st.IsDir() {
			return fmt.Errorf("preflight: binary %s not found (run make build)", b)
		}
	}
	return nil
}

// Point is one measured value of the knob for one target. Its JSON is one
// element of sweep.json's points; the fields without a JSON name are
// shown in the report only.
type Point struct {
	Target         string             `json:"target"`
	Value          float64            `json:"value"`
	MeasuredRPS    float64            `json:"measured_rps"`
	PredictedRPS   float64            `json:"predicted_rps"`
	Bottleneck     string             `json:"bottleneck"`
	Stations       []queueing.Station `json:"stations"`
	GeneratorBound bool               `json:"generator_bound"`
	Valid          bool               `json:"valid"`

	Raw       string                 `json:"-"` // the value as written
	File      string                 `json:"-"` // the Locust-format files' base name
	Settings  profile.Target         `json:"-"`
	Users     int                    `json:"-"`
	Measured  Measured               `json:"-"`
	Capacity  queueing.Capacity      `json:"-"`
	MedianMS  float64                `json:"-"`
	SelfCheck *loadgenjson.SelfCheck `json:"-"`
	LoadAvg   float64                `json:"-"` // the machine's 1-minute load average when the point ended
	// Server is what the scoring service's /metrics says it spent per
	// request over the measurement window (zero when it could not tell).
	Server ServerTime `json:"-"`
	// CPU is what the point's processes and the machine used over the
	// measurement window, from /proc (nil: not measured, e.g. not Linux).
	CPU   *CPU   `json:"cpu"`
	Error string `json:"-"`
}

// Counts reports whether the point is a capacity measurement that can be
// held against its prediction: valid, measured, not generator-bound.
func (p Point) Counts() bool {
	return p.Valid && !p.GeneratorBound && p.Error == "" && p.MeasuredRPS > 0
}

// ErrorPct is the measurement's distance from the prediction, in percent
// of the prediction.
func (p Point) ErrorPct() float64 {
	if p.PredictedRPS <= 0 {
		return math.NaN()
	}
	return (p.MeasuredRPS - p.PredictedRPS) / p.PredictedRPS * 100
}

// Result is a whole sweep: sweep.json holds Knob and Points.
type Result struct {
	Knob   string  `json:"knob"`
	Points []Point `json:"points"`

	Config  Config        `json:"-"`
	Env     envinfo.Env   `json:"-"`
	Pacing  time.Duration `json:"-"`
	Started time.Time     `json:"-"`
	Ended   time.Time     `json:"-"`
	Status  string        `json:"-"` // complete, failed or interrupted
	Error   string        `json:"-"`
}

// Printer receives one line per step of the sweep.
type Printer interface {
	Printf(format string, args ...any)
}

// Sweeper runs one sweep. Create it with New; call Run once.
type Sweeper struct {
	cfg  Config
	log  zerolog.Logger
	pr   Printer
	sup  *proc.Supervisor
	base profile.Profile
}

// New returns a Sweeper; the services' other settings and the users'
// pacing come from the lab's full profile (the defaults of `make lab`).
func New(cfg Config, log zerolog.Logger, pr Printer) *Sweeper {
	base, _ := profile.Lookup("full")
	return &Sweeper{cfg: cfg, log: log, pr: pr, base: base}
}

// Network is the queueing model of target t's settings on cores cores.
func Network(t profile.Target, cores int) queueing.Network {
	svc := func(s profile.Service) queueing.Service {
		return queueing.Service{Style: t.Style, Workers: s.Workers, Loops: s.Loops, CPU: s.CPUCost}
	}
	return queueing.NewNetwork(svc(t.Scoring), svc(t.Model), t.Scoring.Fanout, t.Model.ModelDelayMin, t.Model.ModelDelayMax, cores)
}

// Run runs every point, stops every child on every path (closing hurry
// kills them at once) and writes the report, also after a failure or an
// interruption.
func (s *Sweeper) Run(ctx context.Context, hurry <-chan struct{}) (*Result, error) {
	cfg := s.cfg
	res := &Result{Knob: cfg.Knob.Name, Config: cfg, Env: envinfo.Collect(ctx, cfg.Version), Pacing: s.base.Pacing,
		Started: time.Now(), Status: "complete", Points: []Point{}}
	s.sup = proc.New(s.log, s.base.StopGrace)
	watchDone := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-hurry:
			s.sup.Hurry()
		case <-watchDone:
		}
	}()
	err := s.run(ctx, res)
	s.sup.StopAll()
	close(watchDone)
	<-watched
	res.Ended = time.Now()
	switch {
	case err != nil && ctx.Err() != nil:
		res.Status, res.Error = "interrupted", err.Error()
	case err != nil:
		res.Status, res.Error = "failed", err.Error()
	}
	if werr := Write(cfg.Out, res); werr != nil {
		return res, errors.Join(err, werr)
	}
	return res, err
}

func (s *Sweeper) run(ctx context.Context, res *Result) error {
	cfg := s.cfg
	n, total := 0, len(cfg.Targets)*len(cfg.Values)
	for _, tn := range cfg.Targets {
		for _, v := range cfg.Values {
			n++
			p, err := s.point(ctx, tn, v, n, total)
			res.Points = append(res.Points, p)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// settings returns target tn with --set and the knob's value applied.
func (s *Sweeper) settings(tn string, v Setting) profile.Target {
	t, _ := s.base.Target(tn)
	for _, set := range s.cfg.Sets {
		set.Apply(&t)
	}
	v.Apply(&t)
	return t
}

// OfferedUsers is the user count that offers Headroom × the predicted
// rate (at least 10 req/s more), capped at max.
func OfferedUsers(predictedRPS float64, pacing time.Duration, max int) int {
	rate := math.Max(predictedRPS*Headroom, predictedRPS+10)
	return min(max, int(math.Ceil(rate*pacing.Seconds())))
}

func (s *Sweeper) point(ctx context.Context, tn string, v Setting, n, total int) (Point, error) {
	cfg := s.cfg
	t := s.settings(tn, v)
	p := Point{Target: tn, Value: v.Value, Raw: v.Raw, Settings: t, Stations: []queueing.Station{},
		File: fileName(cfg.Knob.Name, v.Raw, tn), MedianMS: math.NaN()}
	c, err := Network(t, cfg.Cores).Predict()
	if err != nil {
		p.Error = err.Error()
		return p, fmt.Errorf("predict %s %s=%s: %w", tn, cfg.Knob.Name, v.Raw, err)
	}
	p.Capacity, p.PredictedRPS, p.Bottleneck, p.Stations = c, c.PredictedRPS, c.Bottleneck, c.Stations
	p.Users = OfferedUsers(c.PredictedRPS, s.base.Pacing, cfg.Timing.MaxUsers)
	s.pr.Printf("sweep: [%d/%d] %s %s=%s: predicted %.1f req/s (%s); %d users for %s",
		n, total, tn, cfg.Knob.Name, v.Raw, c.PredictedRPS, c.Bottleneck, p.Users, cfg.Timing.RunTime)

	children, url, err := s.startServices(ctx, t, p.File)
	defer func() {
		for i := len(children) - 1; i >= 0; i-- {
			s.sup.Stop(children[i])
		}
	}()
	if err != nil {
		p.Error = err.Error()
		return p, err
	}
	spec := experiment.Spec{Name: p.File, Dir: cfg.Out, Loadgen: cfg.LoadgenBin, Host: url, Users: p.Users,
		SpawnRate: math.Max(1, float64(p.Users)/cfg.Timing.Ramp.Seconds()), RunTime: cfg.Timing.RunTime,
		UserClass: t.UserClass, HTML: true, FullHistory: true}
	// The scoring service's internals, every second while loadgen runs,
	// and the CPU its processes and the machine use.
	sctx, stopScrape := context.WithCancel(ctx)
	scraped := make(chan []scrape.Sample, 1)
	go func() {
		scraped <- scrape.Scraper{Service: tn + " scoring", URL: url + "/metrics", Interval: time.Second}.Run(sctx)
	}()
	pids := map[string]int{}
	for _, c := range children {
		switch c.Name {
		case storeName:
			pids[RoleStore] = c.Pid()
		case tn + " model":
			pids[RoleModel] = c.Pid()
		case tn + " scoring":
			pids[RoleScoring] = c.Pid()
		}
	}
	cpuRead := make(chan []cpuSample, 1)
	go func() { cpuRead <- s.samplerFor(pids).run(sctx) }()
	out, err := experiment.Run(ctx, s.sup, spec, nil)
	stopScrape()
	samples, cpuSamples := <-scraped, <-cpuRead
	p.LoadAvg = float64(envinfo.LoadAvg())
	if err != nil {
		p.Error = err.Error()
		return p, err
	}
	if out.JSON != nil {
		p.SelfCheck = out.JSON.SelfCheck
		if a := loadgenjson.Aggregated(out.JSON.Stats); a != nil {
			p.MedianMS = float64(a.MedianResponseTime)
		}
	}
	rows, err := readHistory(spec.Prefix() + "_stats_history.csv")
	if err == nil {
		p.Measured, err = Measure(rows, s.base.Pacing, cfg.Timing.Warmup)
	}
	if err != nil {
		p.Error = err.Error()
		s.pr.Printf("sweep: %s %s=%s: %v", tn, cfg.Knob.Name, v.Raw, err)
		return p, nil // a point without a measurement is data, not the end of the sweep
	}
	p.MeasuredRPS = p.Measured.RPS
	p.Server = ServerTimeOf(samples, t, p.Measured.From, p.Measured.To)
	if w := p.Measured.To - p.Measured.From; w > 0 {
		p.CPU = CPUOf(cpuSamples, samples, p.Measured.From, p.Measured.To, p.MeasuredRPS+float64(p.Measured.Failures)/w)
	}
	p.Valid = p.SelfCheck != nil && p.SelfCheck.Valid
	p.GeneratorBound = p.Measured.KeptUp() || (p.SelfCheck != nil && p.SelfCheck.MaxCPUPercent >= 90)
	verdict := fmt.Sprintf("%+.1f %% from the prediction", p.ErrorPct())
	switch {
	case p.GeneratorBound:
		verdict = "generator-bound: the target kept up with everything offered"
	case !p.Valid:
		verdict += "; loadgen's self-check says invalid"
	}
	s.pr.Printf("sweep: %s %s=%s: measured %.1f req/s (%s)", tn, cfg.Knob.Name, v.Raw, p.MeasuredRPS, verdict)
	return p, nil
}

// startServices starts the feature store, the model and the scoring
// service of one target with settings t, and waits until each answers.
// It returns what it started (the caller stops them) and the scoring URL.
func (s *Sweeper) startServices(ctx context.Context, t profile.Target, file string) ([]*proc.Child, string, error) {
	cfg := s.cfg
	logs := filepath.Join(cfg.Out, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, "", fmt.Errorf("start services: %w", err)
	}
	var children []*proc.Child
	start := func(name string, args []string) (*proc.Child, string, error) {
		path := filepath.Join(logs, file+"."+strings.ReplaceAll(name, " ", "_")+".log")
		f, err := os.Create(path)
		if err != nil {
			return nil, path, fmt.Errorf("start %s: %w", name, err)
		}
		defer f.Close() // the child holds its own descriptor
		c, err := s.sup.Start(name, cfg.TargetsBin, args, f, f)
		if err != nil {
			return nil, path, err
		}
		children = append(children, c)
		return c, path, nil
	}
	dial := func(port int) string { return net.JoinHostPort(cfg.dialHost(), strconv.Itoa(port)) }
	bind := func(port int) string { return net.JoinHostPort(cfg.Bind, strconv.Itoa(port)) }
	store, log, err := start(storeName, []string{"featurestore", "--addr", bind(cfg.Ports.Store)})
	if err != nil {
		return children, "", err
	}
	if err := proc.WaitRedis(ctx, store, dial(cfg.Ports.Store), s.base.HealthTimeout); err != nil {
		return children, "", fmt.Errorf("%w; last log line: %s", err, lastLine(log))
	}
	mp, sp := cfg.ports(t.Name)
	common := func(role string, sv profile.Service, port int) []string {
		return []string{role, "--style", t.Style, "--framework", t.Framework, "--addr", bind(port), "--route", t.Route,
			"--workers", strconv.Itoa(sv.Workers), "--backlog", strconv.Itoa(sv.Backlog), "--loops", strconv.Itoa(sv.Loops),
			"--cpu-cost", sv.CPUCost.String()}
	}
	svcs := []struct {
		name string
		args []string
		port int
	}{
		{t.Name + " model", append(common("model", t.Model, mp), "--model-delay", t.Model.DelayRange()), mp},
		{t.Name + " scoring", append(common("scoring", t.Scoring, sp), "--model-url", "http://"+dial(mp),
			"--feature-store", "redis://"+dial(cfg.Ports.Store), "--fanout", strconv.Itoa(t.Scoring.Fanout)), sp},
	}
	for _, sv := range svcs {
		c, log, err := start(sv.name, sv.args)
		if err != nil {
			return children, "", err
		}
		if err := proc.WaitHealthy(ctx, c, "http://"+dial(sv.port)+"/api/v1/healthcheck", s.base.HealthTimeout); err != nil {
			return children, "", fmt.Errorf("%w; last log line: %s", err, lastLine(log))
		}
	}
	return children, "http://" + dial(sp), nil
}

// storeName is the feature store child's name.
const storeName = "feature store"

// fileName is a point's Locust-format file base: sweep_KNOB_VALUE_TARGET.
func fileName(knob, raw, target string) string {
	v := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '.', r == '-':
			return r
		}
		return '_'
	}, raw)
	return "sweep_" + knob + "_" + v + "_" + target
}

func readHistory(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	defer f.Close()
	h, err := locustcsv.ReadHistory(f)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", filepath.Base(path), err)
	}
	return Rows(h), nil
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

// DefaultCores is the core count the prediction assumes by default.
func DefaultCores() int { return runtime.NumCPU() }
