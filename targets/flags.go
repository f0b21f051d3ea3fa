package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"predictlab/targets/internal/predict"
	"predictlab/targets/internal/service"
)

// drainTimeout bounds how long a shutdown waits for requests in flight.
const drainTimeout = 30 * time.Second

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

// commonFlags fill service.Common.
type commonFlags struct {
	style, framework, route, addr string
	workers, backlog, loops       int
	cpuCost                       time.Duration
	log                           logFlags
}

func (c *commonFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.style, "style", service.Blocking, "concurrency style: blocking (worker pool) or eventloop")
	fs.StringVar(&c.framework, "framework", "", "HTTP framework: echo or fiber (default: echo for blocking, fiber for eventloop)")
	fs.StringVar(&c.route, "route", "", "predict route: sync or async (default: sync for blocking, async for eventloop)")
	fs.StringVar(&c.addr, "addr", "", "listen address HOST:PORT (default: 127.0.0.1 and the seed's port for the route)")
	fs.IntVar(&c.workers, "workers", 8, "blocking: worker pool size")
	fs.IntVar(&c.backlog, "backlog", 2048, "blocking: queue length past the workers; eventloop: most requests in flight (at least 1); past it 503")
	fs.IntVar(&c.loops, "loops", 1, "eventloop: number of single-threaded loops")
	fs.DurationVar(&c.cpuCost, "cpu-cost", 0, "busy CPU work per request (in the worker, or holding the loop)")
	c.log.register(fs)
}

// routePorts are a service's seed ports, by route.
type routePorts struct{ sync, async int }

// modelPorts and scoringPorts are the seed's ports, the defaults of --addr
// (and, for scoring, of --model-url).
var (
	modelPorts   = routePorts{sync: 5000, async: 8000}
	scoringPorts = routePorts{sync: 5001, async: 8001}
)

// of returns the port for route ("sync" or "async").
func (p routePorts) of(route string) int {
	if route == "async" {
		return p.async
	}
	return p.sync
}

// common validates the flags and fills service.Common; ports give the default
// --addr port for the route.
func (c *commonFlags) common(ports routePorts) (service.Common, error) {
	if c.style != service.Blocking && c.style != service.EventLoop {
		return service.Common{}, &usageError{fmt.Errorf("invalid --style %q: want blocking or eventloop", c.style)}
	}
	fw := c.framework
	if fw == "" {
		fw = "echo"
		if c.style == service.EventLoop {
			fw = "fiber"
		}
	}
	route := c.route
	if route == "" {
		route = "sync"
		if c.style == service.EventLoop {
			route = "async"
		}
	}
	addr := c.addr
	if addr == "" {
		addr = fmt.Sprintf("127.0.0.1:%d", ports.of(route))
	}
	if c.workers < 1 || c.loops < 1 || c.backlog < 0 || c.cpuCost < 0 {
		return service.Common{}, &usageError{errors.New("--workers and --loops must be >= 1, --backlog and --cpu-cost >= 0")}
	}
	cm := service.Common{
		Style: c.style, Framework: fw, Route: route, Addr: addr,
		Workers: c.workers, Backlog: c.backlog, Loops: c.loops, CPUCost: c.cpuCost,
		AccessLog: c.log.accessLog,
	}
	if c.backlog == 0 {
		cm.Backlog = -1 // Common: 0 = default, < 0 = no queue
	}
	if err := cm.WithDefaults().Validate(); err != nil {
		return service.Common{}, &usageError{err}
	}
	return cm, nil
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

func delayFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "model-delay", "40ms-50ms", "model delay, uniform MIN-MAX (or one fixed duration)")
}

func parseDelay(s string) (predict.DelayRange, error) {
	d, err := predict.ParseDelayRange(s)
	if err != nil {
		return d, &usageError{fmt.Errorf("invalid --model-delay: %w", err)}
	}
	return d, nil
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
func serveOne(ctx context.Context, inst *service.Instance, log zerolog.Logger) error {
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
