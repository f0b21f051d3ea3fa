// Package assemble assembles a runnable model or scoring service from its Config:
// an executor (blocking or event loop), the business logic (package predict), its
// metrics, and an HTTP server (echo or fiber) on a listener.
package assemble

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/executor"
	"predictlab/targets/internal/featurestore"
	"predictlab/targets/internal/metrics"
	"predictlab/targets/internal/predict"
	"predictlab/targets/internal/server"
)

// The pieces assembled here fit the interfaces of the business logic: an
// executor's Runtime is what predict runs on, and the clients are its
// downstreams.
var (
	_ predict.Runtime      = executor.Runtime(nil)
	_ predict.FeatureStore = (*featurestore.Client)(nil)
	_ predict.ModelClient  = (*ModelClient)(nil)
)

// Common is the configuration shared by the model and scoring services.
type Common struct {
	Style     targetsapi.Style
	Framework targetsapi.Framework // "" = by style (blocking→echo, eventloop→fiber)
	Route     targetsapi.Target    // "" = by style (blocking→sync, eventloop→async)
	Addr      string               // host:port to listen on
	Workers   int                  // blocking: pool size
	Backlog   int                  // blocking: queue length; eventloop: most requests in flight (0 = default, < 0 = none)
	Loops     int                  // eventloop: number of loops
	CPUCost   time.Duration        // busy work per request
	AccessLog bool
	HTTP      server.Config // timeouts, body limit (Framework, Route, AccessLog are set from above)
}

// WithDefaults fills zero fields with the defaults.
func (c Common) WithDefaults() Common {
	if c.Route == "" {
		c.Route = c.Style.Target()
	}
	if c.Framework == "" {
		c.Framework = c.Style.Framework()
	}
	if c.Workers == 0 {
		c.Workers = targetsapi.DefaultWorkers
	}
	if c.Backlog == 0 {
		c.Backlog = targetsapi.DefaultBacklog
	}
	if c.Loops == 0 {
		c.Loops = targetsapi.DefaultLoops
	}
	c.HTTP.Framework, c.HTTP.Route, c.HTTP.AccessLog = c.Framework, c.Route, c.AccessLog
	c.HTTP = c.HTTP.WithDefaults()
	return c
}

// Validate reports the first invalid field.
func (c Common) Validate() error {
	if _, err := targetsapi.ParseStyle(string(c.Style)); err != nil {
		return fmt.Errorf("validate config: %w", err)
	}
	if c.Workers < 1 {
		return fmt.Errorf("validate config: workers %d: want at least 1", c.Workers)
	}
	if c.Loops < 1 {
		return fmt.Errorf("validate config: loops %d: want at least 1", c.Loops)
	}
	if c.CPUCost < 0 {
		return fmt.Errorf("validate config: cpu cost %s: want 0 or more", c.CPUCost)
	}
	return c.HTTP.Validate()
}

// ModelConfig configures a model service.
type ModelConfig struct {
	Common
	Delay targetsapi.DelayRange // e.g. targetsapi.DefaultModelDelay; the zero value answers at once
	Seed  uint64
}

// ScoringConfig configures a scoring service.
type ScoringConfig struct {
	Common
	ModelURL      string        // base URL of the model service
	FeatureStore  string        // redis://[:password@]host:port
	StorePassword string        // used when FeatureStore carries none
	Fanout        int           // model calls per request, default 2
	ModelTimeout  time.Duration // per model call, default 5s
	StoreTimeout  time.Duration // per store call, default 1s
	// Reseed, when set, is written into the store (keeping keys it has) on every new
	// connection, so a Redis that restarted empty gets it back (--seed-features).
	Reseed map[string]string
}

// WithDefaults fills zero fields with the defaults.
func (c ModelConfig) WithDefaults() ModelConfig {
	c.Common = c.Common.WithDefaults()
	return c
}

// Validate reports the first invalid field.
func (c ModelConfig) Validate() error {
	if c.Delay.Min < 0 || c.Delay.Max < c.Delay.Min {
		return fmt.Errorf("validate config: model delay %s: want 0 <= min <= max", c.Delay)
	}
	return c.Common.Validate()
}

// WithDefaults fills zero fields with the defaults.
func (c ScoringConfig) WithDefaults() ScoringConfig {
	c.Common = c.Common.WithDefaults()
	if c.Fanout == 0 {
		c.Fanout = targetsapi.DefaultFanout
	}
	if c.ModelTimeout == 0 {
		c.ModelTimeout = targetsapi.DefaultModelTimeout
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = targetsapi.DefaultStoreTimeout
	}
	return c
}

// Validate reports the first invalid field.
func (c ScoringConfig) Validate() error {
	if c.ModelURL == "" {
		return errors.New("validate config: model URL is required")
	}
	if c.FeatureStore == "" {
		return errors.New("validate config: feature store URL is required")
	}
	if c.Fanout < 1 {
		return fmt.Errorf("validate config: fanout %d: want at least 1", c.Fanout)
	}
	if c.ModelTimeout < 0 || c.StoreTimeout < 0 {
		return errors.New("validate config: timeouts must not be negative")
	}
	return c.Common.Validate()
}

// Instance is a running service. Stop it with Shutdown.
type Instance struct {
	Name     string
	Addr     string            // the address it listens on (resolved, e.g. for port 0)
	Executor executor.Executor // *executor.Blocking or *executor.Loop
	srv      server.Server
	closers  []func()
	served   chan struct{} // closed when Serve has returned
	serveErr error         // Serve's error; read after served is closed
	stopOnce sync.Once
	stopErr  error
}

// Done is closed when the server has stopped serving (after Shutdown, or on a
// failure; see Err).
func (i *Instance) Done() <-chan struct{} { return i.served }

// Err is the error the server stopped with (nil after a clean Shutdown). Call it
// after Done is closed.
func (i *Instance) Err() error { return i.serveErr }

// Shutdown stops accepting requests, drains those in flight (until ctx is done),
// then stops the executor and closes downstream clients. Safe to call twice.
func (i *Instance) Shutdown(ctx context.Context) error {
	i.stopOnce.Do(func() {
		i.stopErr = i.srv.Shutdown(ctx)
		<-i.served
		if i.serveErr != nil && i.stopErr == nil {
			i.stopErr = i.serveErr
		}
		i.Executor.Close()
		for _, c := range i.closers {
			c()
		}
	})
	return i.stopErr
}

func newExecutor(c Common, m *metrics.Metrics) executor.Executor {
	if c.Style == targetsapi.Blocking {
		b := executor.NewBlocking(executor.BlockingConfig{Workers: c.Workers, Backlog: c.Backlog, Hooks: m.Hooks()})
		m.WatchBlocking(b)
		return b
	}
	l := executor.NewLoop(executor.LoopConfig{Loops: c.Loops, Backlog: max(c.Backlog, 1), Hooks: m.Hooks()})
	m.WatchLoop(l)
	return l
}

// start serves h on ln with a new executor; it takes ownership of ln and closers
// (closed on failure too).
func start(name string, c Common, ln net.Listener, log zerolog.Logger, h server.Handler, closers []func()) (*Instance, error) {
	log = log.With().Str("service", name).Str("addr", ln.Addr().String()).Logger()
	m := metrics.New(name)
	ex := newExecutor(c, m)
	srv, err := server.New(c.HTTP, server.Service{Name: name, Executor: ex, Handler: h, Metrics: m, Log: log})
	if err != nil {
		ex.Close()
		_ = ln.Close()
		for _, cl := range closers {
			cl()
		}
		return nil, fmt.Errorf("start %s service: %w", name, err)
	}
	inst := &Instance{Name: name, Addr: ln.Addr().String(), Executor: ex, srv: srv, closers: closers, served: make(chan struct{})}
	go func() {
		inst.serveErr = srv.Serve(ln)
		close(inst.served)
	}()
	log.Info().Str("style", c.Style.String()).
		Str("framework", c.Framework.String()).Str("route", c.Route.PredictPath()).Msg("listening")
	return inst, nil
}

// StartModel starts a model service on ln (it takes ownership of ln).
func StartModel(cfg ModelConfig, ln net.Listener, log zerolog.Logger) (*Instance, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		_ = ln.Close()
		return nil, err
	}
	m := &predict.Model{
		Delay:   cfg.Delay,
		CPUCost: cfg.CPUCost,
		Rand:    predict.NewLockedRand(rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))),
	}
	return start("model", cfg.Common, ln, log, func(ctx context.Context, rt executor.Runtime, body []byte) predict.Response {
		return m.Handle(ctx, rt, body)
	}, nil)
}

// StartScoring starts a scoring service on ln (it takes ownership of ln).
func StartScoring(cfg ScoringConfig, ln net.Listener, log zerolog.Logger) (*Instance, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		_ = ln.Close()
		return nil, err
	}
	store, err := featurestore.NewClient(featurestore.ClientConfig{URL: cfg.FeatureStore, Password: cfg.StorePassword, Timeout: cfg.StoreTimeout, Reseed: cfg.Reseed})
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("start scoring service: %w", err)
	}
	mc, err := NewModelClient(cfg.ModelURL, cfg.Route)
	if err != nil {
		_ = ln.Close()
		_ = store.Close()
		return nil, fmt.Errorf("start scoring service: %w", err)
	}
	s := &predict.Scoring{
		Store:        store,
		Model:        mc,
		Fanout:       cfg.Fanout,
		CPUCost:      cfg.CPUCost,
		StoreTimeout: cfg.StoreTimeout,
		ModelTimeout: cfg.ModelTimeout,
		Log:          log.With().Str("service", "scoring").Logger().Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Second}),
	}
	return start("scoring", cfg.Common, ln, log, func(ctx context.Context, rt executor.Runtime, body []byte) predict.Response {
		return s.Handle(ctx, rt, body)
	}, []func(){func() { _ = store.Close() }, mc.Close})
}
