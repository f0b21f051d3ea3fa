package command

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/assemble"
	"predictlab/targets/internal/featurestore"
)

// allConfig is the configuration of "targets all".
type allConfig struct {
	Bind                            string
	StoreBind                       string
	StorePassword                   string
	Ports                           targetsapi.Ports
	FeatureStore                    string // "" = embedded store on Ports.Store
	Workers, Backlog, Loops, Fanout int
	CPUCost                         time.Duration
	ModelDelay                      targetsapi.DelayRange
	Seed                            uint64
}

// Validate reports the first invalid field.
func (c allConfig) Validate() error {
	for name, p := range map[string]int{
		"--sync-model-port": c.Ports.SyncModel, "--sync-scoring-port": c.Ports.SyncScoring,
		"--async-model-port": c.Ports.AsyncModel, "--async-scoring-port": c.Ports.AsyncScoring,
		"--store-port": c.Ports.Store,
	} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("validate config: %s %d: want 0-65535", name, p)
		}
	}
	if c.Workers < 1 || c.Loops < 1 || c.Backlog < 0 || c.Fanout < 1 || c.CPUCost < 0 {
		return errors.New("validate config: --workers, --loops, --fanout must be >= 1, --backlog and --cpu-cost >= 0")
	}
	return nil
}

// runAll is "targets all": the feature store and the four services in one process.
func runAll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("all", pflag.ContinueOnError)
	var (
		c  allConfig
		lf logFlags
	)
	fs.StringVar(&c.Bind, "bind", "127.0.0.1", "host every service listens on")
	seed := targetsapi.SeedPorts()
	fs.IntVar(&c.Ports.SyncModel, "sync-model-port", seed.SyncModel, "sync (blocking, echo) model service port")
	fs.IntVar(&c.Ports.SyncScoring, "sync-scoring-port", seed.SyncScoring, "sync (blocking, echo) scoring service port")
	fs.IntVar(&c.Ports.AsyncModel, "async-model-port", seed.AsyncModel, "async (eventloop, fiber) model service port")
	fs.IntVar(&c.Ports.AsyncScoring, "async-scoring-port", seed.AsyncScoring, "async (eventloop, fiber) scoring service port")
	fs.IntVar(&c.Ports.Store, "store-port", seed.Store, "embedded feature store port")
	fs.StringVar(&c.StoreBind, "store-bind", "127.0.0.1", "host the embedded feature store listens on (loopback unless asked: only the scoring services in this process use it)")
	storePasswordFlag(fs, &c.StorePassword)
	fs.StringVar(&c.FeatureStore, "feature-store", "", "use this feature store (redis://[:password@]host:port) instead of the embedded one")
	fs.IntVar(&c.Workers, "workers", targetsapi.DefaultWorkers, "blocking services: worker pool size")
	fs.IntVar(&c.Backlog, "backlog", targetsapi.DefaultBacklog, "queue length (blocking) / most requests in flight (eventloop); past it 503")
	fs.IntVar(&c.Loops, "loops", targetsapi.DefaultLoops, "eventloop services: number of loops")
	fs.IntVar(&c.Fanout, "fanout", targetsapi.DefaultFanout, "scoring services: model calls per request")
	fs.DurationVar(&c.CPUCost, "cpu-cost", 0, "scoring services: busy CPU work per request")
	delayFlag(fs, &c.ModelDelay)
	fs.Uint64Var(&c.Seed, "seed", targetsapi.DefaultSeed, "seed of the model delays (the async model uses seed+1)")
	lf.register(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	if err := c.Validate(); err != nil {
		return &usageError{err}
	}
	delay := c.ModelDelay
	log, err := lf.logger(stderr)
	if err != nil {
		return err
	}

	// Open every port before starting anything, so a port in use fails cleanly.
	names := []string{"sync model", "sync scoring", "async model", "async scoring"}
	ports := []int{c.Ports.SyncModel, c.Ports.SyncScoring, c.Ports.AsyncModel, c.Ports.AsyncScoring}
	lns := make([]net.Listener, 0, len(ports))
	closeListeners := func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}
	for i, p := range ports {
		ln, err := listen(names[i]+" service", net.JoinHostPort(c.Bind, strconv.Itoa(p)))
		if err != nil {
			closeListeners()
			return err
		}
		lns = append(lns, ln)
	}
	storeURL := c.FeatureStore
	var store *featurestore.Server
	if storeURL == "" {
		storeAddr := net.JoinHostPort(c.StoreBind, strconv.Itoa(c.Ports.Store))
		store, err = featurestore.Start(featurestore.Config{Addr: storeAddr, Password: c.StorePassword, Log: log})
		if err != nil {
			closeListeners()
			return fmt.Errorf("listen feature store on %s: %w", storeAddr, unwrapSyscall(errors.Unwrap(err)))
		}
		_, port, _ := net.SplitHostPort(store.Addr())
		storeURL = "redis://" + net.JoinHostPort(dialHost(c.StoreBind), port)
		log.Info().Str("service", "featurestore").Str("addr", store.Addr()).Msg("listening")
	}

	// From here on every started piece is stopped on every path.
	var started []*assemble.Instance
	stopAll := func() error {
		// One deadline for the whole drain, not one per service: the four drain
		// at once, scoring first (its requests still need the models), then the
		// models, then the store.
		dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		var (
			mu    sync.Mutex
			first error
		)
		for _, role := range []string{"scoring", "model"} {
			var wg sync.WaitGroup
			for _, inst := range started {
				if inst.Name != role {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := inst.Shutdown(dctx); err != nil {
						mu.Lock()
						first = cmp.Or(first, fmt.Errorf("stop %s service: %w", inst.Name, err))
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}
		if store != nil {
			store.Close()
		}
		return first
	}
	backlog := c.Backlog
	if backlog == 0 {
		backlog = -1 // Common: 0 = default, < 0 = no queue
	}
	common := func(t targetsapi.Target, addr string) assemble.Common {
		return assemble.Common{Style: t.Style(), Framework: t.Framework(), Route: t, Addr: addr,
			Workers: c.Workers, Backlog: backlog, Loops: c.Loops, AccessLog: lf.accessLog}
	}
	modelURL := func(ln net.Listener) string {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		return "http://" + net.JoinHostPort(dialHost(c.Bind), port)
	}
	// Order matters for shutdown: models first here, so they are stopped last.
	steps := []func() (*assemble.Instance, error){
		func() (*assemble.Instance, error) {
			return assemble.StartModel(assemble.ModelConfig{
				Common: common(targetsapi.Sync, lns[0].Addr().String()),
				Delay:  delay, Seed: c.Seed}, lns[0], log)
		},
		func() (*assemble.Instance, error) {
			return assemble.StartModel(assemble.ModelConfig{
				Common: common(targetsapi.Async, lns[2].Addr().String()),
				Delay:  delay, Seed: c.Seed + 1}, lns[2], log)
		},
		func() (*assemble.Instance, error) {
			cm := common(targetsapi.Sync, lns[1].Addr().String())
			cm.CPUCost = c.CPUCost
			return assemble.StartScoring(assemble.ScoringConfig{Common: cm,
				ModelURL: modelURL(lns[0]), FeatureStore: storeURL, StorePassword: c.StorePassword, Fanout: c.Fanout}, lns[1], log)
		},
		func() (*assemble.Instance, error) {
			cm := common(targetsapi.Async, lns[3].Addr().String())
			cm.CPUCost = c.CPUCost
			return assemble.StartScoring(assemble.ScoringConfig{Common: cm,
				ModelURL: modelURL(lns[2]), FeatureStore: storeURL, StorePassword: c.StorePassword, Fanout: c.Fanout}, lns[3], log)
		},
	}
	owned := []int{0, 2, 1, 3} // listener index each step takes ownership of
	for i, step := range steps {
		inst, err := step()
		if err != nil {
			for _, j := range owned[i+1:] {
				_ = lns[j].Close()
			}
			_ = stopAll()
			return err
		}
		started = append(started, inst)
	}

	log.Info().
		Str("sync_scoring", "http://"+started[2].Addr+targetsapi.Sync.PredictPath()).
		Str("async_scoring", "http://"+started[3].Addr+targetsapi.Async.PredictPath()).
		Str("feature_store", redactURL(storeURL)).Msg("all services ready")

	// Wait for Ctrl-C / SIGTERM, or for a service to fail.
	failed := make(chan *assemble.Instance, len(started))
	watchCtx, stopWatch := context.WithCancel(context.Background())
	var watchers sync.WaitGroup
	for _, inst := range started {
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			select {
			case <-inst.Done():
				failed <- inst
			case <-watchCtx.Done():
			}
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down: draining requests in flight")
	case inst := <-failed:
		runErr = fmt.Errorf("%s service stopped: %w", inst.Name, inst.Err())
	}
	stopWatch()
	watchers.Wait()
	if err := stopAll(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		log.Info().Msg("all services stopped")
	}
	return runErr
}

// dialHost is the host clients use to reach a service bound to bind.
func dialHost(bind string) string {
	switch bind {
	case "", "0.0.0.0", "::", "[::]":
		return "127.0.0.1"
	}
	return bind
}
