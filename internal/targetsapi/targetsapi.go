// Package targetsapi is the contract between targets, the lab and the compose
// files: the two targets (sync and async) and the concurrency style, framework and
// route of each, the services' routes and seed ports, their settings with their
// defaults and the command line that starts them (Service.Args), and the names of
// the metrics they export on /metrics.
//
// Everything here is written once: targets registers its flags and defaults from
// it, the lab builds its child command lines and scrapes with it, and the compose
// tests compare the compose file with it. It imports nothing of the module.
package targetsapi

import (
	"fmt"
	"strings"
	"time"
)

// Target is one of the two architectures under test. The zero value is invalid.
type Target string

// The two targets.
const (
	Sync  Target = "sync"  // blocking worker pool behind echo, on the sync route
	Async Target = "async" // event loop behind fiber, on the async route
)

// Targets lists both targets in report order.
func Targets() []Target { return []Target{Sync, Async} }

// ParseTarget parses "sync" or "async".
func ParseTarget(s string) (Target, error) {
	switch t := Target(s); t {
	case Sync, Async:
		return t, nil
	}
	return "", fmt.Errorf("parse target %q: want sync or async", s)
}

// String is the target's name ("sync" or "async").
func (t Target) String() string { return string(t) }

// Set parses s into t (pflag.Value).
func (t *Target) Set(s string) error {
	v, err := ParseTarget(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Type names the flag value (pflag.Value).
func (*Target) Type() string { return "target" }

// Style is the target's default concurrency style (blocking for sync, event loop
// for async), as in the seed (gunicorn sync workers, uvicorn).
func (t Target) Style() Style {
	if t == Async {
		return EventLoop
	}
	return Blocking
}

// Framework is the target's default HTTP framework (echo for sync, fiber for
// async), as the seed pairs Flask and FastAPI.
func (t Target) Framework() Framework {
	if t == Async {
		return Fiber
	}
	return Echo
}

// PredictPath is the target's predict route, /api/v1/ml/<target>/predict.
func (t Target) PredictPath() string { return "/api/v1/ml/" + string(t) + "/predict" }

// UserClass is the loadgen (and Locust benchmark.py) user class that posts to
// the target's predict route.
func (t Target) UserClass() string {
	if t == Async {
		return "ApiAsyncUser"
	}
	return "ApiSyncUser"
}

// Style is a concurrency style, the layer the lab compares. The zero value is invalid.
type Style string

// The two concurrency styles.
const (
	Blocking  Style = "blocking"  // a fixed worker pool with a bounded FIFO queue
	EventLoop Style = "eventloop" // single-threaded event loops
)

// ParseStyle parses "blocking" or "eventloop".
func ParseStyle(s string) (Style, error) {
	switch v := Style(s); v {
	case Blocking, EventLoop:
		return v, nil
	}
	return "", fmt.Errorf("parse style %q: want blocking or eventloop", s)
}

// String is the style's name.
func (s Style) String() string { return string(s) }

// Set parses v into s (pflag.Value).
func (s *Style) Set(v string) error {
	p, err := ParseStyle(v)
	if err != nil {
		return err
	}
	*s = p
	return nil
}

// Type names the flag value (pflag.Value).
func (*Style) Type() string { return "style" }

// Target is the route a service of this style serves by default.
func (s Style) Target() Target {
	if s == EventLoop {
		return Async
	}
	return Sync
}

// Framework is the HTTP framework a service of this style uses by default.
func (s Style) Framework() Framework { return s.Target().Framework() }

// Framework is an HTTP framework. The zero value means "the style's default".
type Framework string

// The two frameworks.
const (
	Echo  Framework = "echo"  // labstack/echo on net/http
	Fiber Framework = "fiber" // gofiber/fiber on fasthttp
)

// ParseFramework parses "echo" or "fiber".
func ParseFramework(s string) (Framework, error) {
	switch v := Framework(s); v {
	case Echo, Fiber:
		return v, nil
	}
	return "", fmt.Errorf("parse framework %q: want echo or fiber", s)
}

// String is the framework's name.
func (f Framework) String() string { return string(f) }

// Set parses v into f (pflag.Value).
func (f *Framework) Set(v string) error {
	p, err := ParseFramework(v)
	if err != nil {
		return err
	}
	*f = p
	return nil
}

// Type names the flag value (pflag.Value).
func (*Framework) Type() string { return "framework" }

// Routes every service serves besides its predict route (Target.PredictPath).
const (
	IndexPath   = "/"                   // GET: a JSON index of the routes
	HealthPath  = "/api/v1/healthcheck" // GET: 200 HealthBody while the service is up
	MetricsPath = "/metrics"            // GET: Prometheus text format, the names below
	HealthBody  = `{"status":"OK"}`
)

// Role is what a service process does: the targets subcommand that runs it.
type Role string

// The roles of a service process.
const (
	Model   Role = "model"   // answers after a random delay
	Scoring Role = "scoring" // fetches features, calls the model Fanout times
)

// Ports are the services' TCP ports.
type Ports struct {
	SyncModel, SyncScoring, AsyncModel, AsyncScoring, Store int
}

// SeedPorts are the seed's ports: sync model 5000, sync scoring 5001, async model
// 8000, async scoring 8001, feature store 6379 (Redis).
func SeedPorts() Ports {
	return Ports{SyncModel: 5000, SyncScoring: 5001, AsyncModel: 8000, AsyncScoring: 8001, Store: 6379}
}

// Of is the port of the role's service for target t.
func (p Ports) Of(t Target, r Role) int {
	switch {
	case t == Async && r == Model:
		return p.AsyncModel
	case t == Async:
		return p.AsyncScoring
	case r == Model:
		return p.SyncModel
	}
	return p.SyncScoring
}

// Defaults of the service settings (the flags' defaults).
const (
	DefaultWorkers      = 8               // blocking: worker pool size, fixed so results do not depend on cores
	DefaultBacklog      = 2048            // blocking: queue past the workers (gunicorn's backlog); event loop: in-flight cap
	DefaultLoops        = 1               // event loop: loops (one uvicorn worker)
	DefaultFanout       = 2               // scoring: model calls per request
	DefaultModelTimeout = 5 * time.Second // scoring: one model call, then 504
	DefaultStoreTimeout = time.Second     // scoring: one feature-store call, then 504
	DefaultDrain        = 30 * time.Second
	DefaultSeed         = 1
)

// DefaultModelDelay is the seed's model delay, U(40 ms, 50 ms).
var DefaultModelDelay = DelayRange{Min: 40 * time.Millisecond, Max: 50 * time.Millisecond}

// DelayRange is a uniform distribution of delays [Min, Max].
type DelayRange struct {
	Min, Max time.Duration
}

// ParseDelayRange parses "40ms-50ms" (a uniform range) or "45ms" (a fixed delay).
func ParseDelayRange(s string) (DelayRange, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(s), "-")
	if !found {
		hi = lo
	}
	min, err := time.ParseDuration(strings.TrimSpace(lo))
	if err != nil {
		return DelayRange{}, fmt.Errorf("parse delay range %q: %w", s, err)
	}
	max, err := time.ParseDuration(strings.TrimSpace(hi))
	if err != nil {
		return DelayRange{}, fmt.Errorf("parse delay range %q: %w", s, err)
	}
	if min < 0 || max < min {
		return DelayRange{}, fmt.Errorf("parse delay range %q: want 0 <= min <= max", s)
	}
	return DelayRange{Min: min, Max: max}, nil
}

// String formats the range as ParseDelayRange accepts it (e.g. "40ms-50ms").
func (d DelayRange) String() string { return d.Min.String() + "-" + d.Max.String() }

// Mean is the mean delay, (Min+Max)/2.
func (d DelayRange) Mean() time.Duration { return (d.Min + d.Max) / 2 }

// Service is the settings of one model or scoring service process: what
// `targets model|scoring` takes as flags. Start from Defaults and change fields;
// Args gives the command line.
type Service struct {
	Role      Role
	Style     Style
	Framework Framework // "" = the style's default
	Target    Target    // the predict route served; "" = the style's default
	Addr      string    // host:port; "" = 127.0.0.1 and the seed port of Role and Target
	Workers   int       // blocking: pool size
	Backlog   int       // blocking: queue length; event loop: most requests in flight; 0 = no queue
	Loops     int       // event loop: number of loops
	CPUCost   time.Duration

	// Model only.
	ModelDelay DelayRange
	Seed       uint64

	// Scoring only.
	ModelURL     string // "" = the model on 127.0.0.1 at the seed port of Target
	FeatureStore string // redis://[:password@]host:port
	Fanout       int
	ModelTimeout time.Duration
	StoreTimeout time.Duration
}

// Defaults is the settings of the role's service for target t as targets runs
// it without flags (Addr, ModelURL and Framework left to targets' defaults).
func Defaults(r Role, t Target) Service {
	s := Service{
		Role: r, Style: t.Style(), Framework: t.Framework(), Target: t,
		Workers: DefaultWorkers, Backlog: DefaultBacklog, Loops: DefaultLoops,
	}
	if r == Model {
		s.ModelDelay, s.Seed = DefaultModelDelay, DefaultSeed
		return s
	}
	s.FeatureStore = DefaultFeatureStoreURL
	s.Fanout, s.ModelTimeout, s.StoreTimeout = DefaultFanout, DefaultModelTimeout, DefaultStoreTimeout
	return s
}

// DefaultFeatureStoreURL is scoring's default --feature-store: the store on its seed port.
const DefaultFeatureStoreURL = "redis://127.0.0.1:6379"

// Args is the targets command line (without the program name) that runs s:
// the role's subcommand then one flag per setting. Empty strings and zero
// durations of optional settings are left out, so targets applies its defaults.
func (s Service) Args() []string {
	args := []string{string(s.Role), "--style", string(s.Style)}
	if s.Framework != "" {
		args = append(args, "--framework", string(s.Framework))
	}
	if s.Target != "" {
		args = append(args, "--route", string(s.Target))
	}
	if s.Addr != "" {
		args = append(args, "--addr", s.Addr)
	}
	args = append(args,
		"--workers", fmt.Sprint(s.Workers), "--backlog", fmt.Sprint(s.Backlog), "--loops", fmt.Sprint(s.Loops),
		"--cpu-cost", s.CPUCost.String())
	if s.Role == Model {
		args = append(args, "--model-delay", s.ModelDelay.String())
		if s.Seed != 0 {
			args = append(args, "--seed", fmt.Sprint(s.Seed))
		}
		return args
	}
	if s.ModelURL != "" {
		args = append(args, "--model-url", s.ModelURL)
	}
	if s.FeatureStore != "" {
		args = append(args, "--feature-store", s.FeatureStore)
	}
	args = append(args, "--fanout", fmt.Sprint(s.Fanout))
	if s.ModelTimeout > 0 {
		args = append(args, "--model-timeout", s.ModelTimeout.String())
	}
	if s.StoreTimeout > 0 {
		args = append(args, "--store-timeout", s.StoreTimeout.String())
	}
	return args
}

// Store is the settings of the embedded feature store process
// (`targets featurestore`).
type Store struct {
	Addr     string // host:port; "" = 127.0.0.1:6379
	Password string // "" = no AUTH
}

// Args is the targets command line (without the program name) that runs s. The
// password, when set, is passed in the environment variable StorePasswordEnv
// (Env), not on the command line, so it does not show in ps.
func (s Store) Args() []string {
	args := []string{"featurestore"}
	if s.Addr != "" {
		args = append(args, "--addr", s.Addr)
	}
	return args
}

// Env is the environment entries (KEY=value) the store process needs beside Args.
func (s Store) Env() []string {
	if s.Password == "" {
		return nil
	}
	return []string{StorePasswordEnv + "=" + s.Password}
}

// StorePasswordEnv names the environment variable that sets the feature store's
// password (as --feature-store-password does) for `targets featurestore` and
// `targets all`.
const StorePasswordEnv = "PREDICTLAB_FEATURE_STORE_PASSWORD"

// Label of every predictlab metric: the service's role ("model" or "scoring").
const LabelService = "service"

// Metric names on /metrics. Counters end in _total; histograms export
// _bucket, _sum and _count series.
const (
	// Both styles.
	MetricInflight        = "predictlab_inflight_requests"        // gauge: predict requests queued or running
	MetricRequestDuration = "predictlab_request_duration_seconds" // histogram by code: arrival to answer
	MetricAbandoned       = "predictlab_abandoned_requests_total" // counter: requests dropped because the client left before they ran

	// Blocking executor.
	MetricWorkersBusy        = "predictlab_workers_busy"               // gauge: workers running a request now
	MetricWorkersTotal       = "predictlab_workers_total"              // gauge: pool size
	MetricWorkersBusySeconds = "predictlab_workers_busy_seconds_total" // counter: seconds workers were busy, summed over workers
	MetricQueueLength        = "predictlab_queue_length"               // gauge: requests waiting for a worker
	MetricQueueWait          = "predictlab_queue_wait_seconds"         // histogram: time waited for a worker

	// Event-loop executor.
	MetricLoopBusyRatio   = "predictlab_loop_busy_ratio"         // gauge: busy fraction of the last second, mean over loops
	MetricLoopBusySeconds = "predictlab_loop_busy_seconds_total" // counter: seconds the loops ran callbacks
	MetricLoopRunqueue    = "predictlab_loop_runqueue_length"    // gauge: callbacks ready and waiting
	MetricLoopInflight    = "predictlab_loop_inflight_tasks"     // gauge: requests admitted and not finished
	MetricLoopLag         = "predictlab_loop_lag_seconds"        // histogram: time a ready callback waited for its loop
)

// Suffixes of a histogram's series.
const (
	SuffixBucket = "_bucket"
	SuffixSum    = "_sum"
	SuffixCount  = "_count"
)

// Set parses v into d (pflag.Value).
func (d *DelayRange) Set(v string) error {
	p, err := ParseDelayRange(v)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Type names the flag value (pflag.Value).
func (*DelayRange) Type() string { return "range" }
