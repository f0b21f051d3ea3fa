package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/assemble"
)

// drainTimeout bounds how long a shutdown waits for requests in flight.
const drainTimeout = targetsapi.DefaultDrain

// logFlags are the logging flags every command takes.
type logFlags struct {
	level     string
	accessLog bool
}

func (l *logFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&l.accessLog, "access-log", false, "log every request (off by default: it distorts measurements)")
}

func (l *logFlags) logger(stderr io.Writer) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(strings.ToLower(l.level))
	if err != nil || l.level == "" {
		return zerolog.Nop(), &usageError{fmt.Errorf("invalid --log-level %q", l.level)}
	}
	return zerolog.New(stderr).Level(lvl).With().Timestamp().Logger(), nil
}

// serviceFlags fill a targetsapi.Service, the settings of one model or scoring
// service; the flags' defaults are the contract's.
type serviceFlags struct {
	s   targetsapi.Service
	log logFlags
}

func (c *serviceFlags) register(fs *pflag.FlagSet, role targetsapi.Role) {
	c.s = targetsapi.Defaults(role, targetsapi.Sync)
	c.s.Framework, c.s.Target = "", "" // by style unless given
	fs.Var(&c.s.Style, "style", "concurrency style: blocking (worker pool) or eventloop")
	fs.Var(&c.s.Framework, "framework", "HTTP framework: echo or fiber (default: echo for blocking, fiber for eventloop)")
	fs.Var(&c.s.Target, "route", "predict route: sync or async (default: sync for blocking, async for eventloop)")
	fs.StringVar(&c.s.Addr, "addr", "", "listen address HOST:PORT (default: 127.0.0.1 and the seed's port for the route)")
	fs.IntVar(&c.s.Workers, "workers", c.s.Workers, "blocking: worker pool size")
	fs.IntVar(&c.s.Backlog, "backlog", c.s.Backlog, "blocking: queue length past the workers; eventloop: most requests in flight (at least 1); past it 503")
	fs.IntVar(&c.s.Loops, "loops", c.s.Loops, "eventloop: number of single-threaded loops")
	fs.DurationVar(&c.s.CPUCost, "cpu-cost", 0, "busy CPU work per request (in the worker, or holding the loop)")
	if role == targetsapi.Model {
		fs.Var(&c.s.ModelDelay, "model-delay", "model delay, uniform MIN-MAX (or one fixed duration)")
		fs.Uint64Var(&c.s.Seed, "seed", c.s.Seed, "seed of the model delay's random source")
	} else {
		fs.StringVar(&c.s.ModelURL, "model-url", "", "model service base URL; POSTs go to <url>/api/v1/ml/<route>/predict (default: http://127.0.0.1 and the seed model port of the route)")
		fs.StringVar(&c.s.FeatureStore, "feature-store", c.s.FeatureStore, "feature store URL (Redis protocol): redis://[:password@]host:port")
		fs.IntVar(&c.s.Fanout, "fanout", c.s.Fanout, "model calls per request")
		fs.DurationVar(&c.s.ModelTimeout, "model-timeout", c.s.ModelTimeout, "timeout of one model call (then 504)")
		fs.DurationVar(&c.s.StoreTimeout, "store-timeout", c.s.StoreTimeout, "timeout of one feature-store call (then 504)")
	}
	c.log.register(fs)
}

// common validates the flags and fills assemble.Common: framework, route and
// address default by style and route.
func (c *serviceFlags) common() (assemble.Common, error) {
	s := &c.s
	if s.Framework == "" {
		s.Framework = s.Style.Framework()
	}
	if s.Target == "" {
		s.Target = s.Style.Target()
	}
	if s.Addr == "" {
		s.Addr = fmt.Sprintf("127.0.0.1:%d", targetsapi.SeedPorts().Of(s.Target, s.Role))
	}
	if s.Workers < 1 || s.Loops < 1 || s.Backlog < 0 || s.CPUCost < 0 {
		return assemble.Common{}, &usageError{errors.New("--workers and --loops must be >= 1, --backlog and --cpu-cost >= 0")}
	}
	cm := assemble.Common{
		Style: s.Style, Framework: s.Framework, Route: s.Target, Addr: s.Addr,
		Workers: s.Workers, Backlog: s.Backlog, Loops: s.Loops, CPUCost: s.CPUCost,
		AccessLog: c.log.accessLog,
	}
	if s.Backlog == 0 {
		cm.Backlog = -1 // Common: 0 = default, < 0 = no queue
	}
	if err := cm.WithDefaults().Validate(); err != nil {
		return assemble.Common{}, &usageError{err}
	}
	return cm, nil
}

// storePasswordFlag registers --feature-store-password, whose default is the
// environment's (so the password need not show in ps).
func storePasswordFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "feature-store-password", os.Getenv(targetsapi.StorePasswordEnv),
		"feature store password (AUTH); default $"+targetsapi.StorePasswordEnv+"; a --feature-store URL's own password wins")
}

// redactURL hides the password of a redis:// URL, for logs.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// parseFlags parses args; it returns errHelp (not an error to report) for --help.
func parseFlags(fs *pflag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, "usage of targets %s:\n", fs.Name())
		fs.PrintDefaults()
		return errHelp
	}
	if err != nil {
		return &usageError{fmt.Errorf("%s: %w", fs.Name(), err)}
	}
	return nil
}

var errHelp = errors.New("help requested")

func delayFlag(fs *pflag.FlagSet, p *targetsapi.DelayRange) {
	*p = targetsapi.DefaultModelDelay
	fs.Var(p, "model-delay", "model delay, uniform MIN-MAX (or one fixed duration)")
}

// listen opens a TCP listener, naming what it is for in the error.
func listen(what, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s on %s: %w", what, addr, unwrapSyscall(err))
	}
	return ln, nil
}

// unwrapSyscall shortens "listen tcp 127.0.0.1:5000: bind: address already in use"
// to its cause ("address already in use").
func unwrapSyscall(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// serveOne runs one started service until ctx is done (then drains) or it fails.
func serveOne(ctx context.Context, inst *assemble.Instance, log zerolog.Logger) error {
	select {
	case <-ctx.Done():
		log.Info().Str("service", inst.Name).Msg("shutting down: draining requests in flight")
	case <-inst.Done():
	}
	dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if err := inst.Shutdown(dctx); err != nil {
		return fmt.Errorf("stop %s service: %w", inst.Name, err)
	}
	log.Info().Str("service", inst.Name).Msg("stopped")
	return nil
}
