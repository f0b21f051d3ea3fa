// Package server puts a service (package predict under an executor) behind an HTTP
// framework: echo (net/http) or fiber (fasthttp), with identical routes and
// identical hardening — timeouts, a body limit (413), compressed bodies refused
// unread (415), JSON errors for unknown routes (404) and wrong methods (405), bad
// bodies (400/422), overload (503), downstream failures (502/503/504, with no
// internal detail) and panics (500, never a stack trace in a response) — and the
// same lifecycle: a request whose client goes away is cancelled (dropped unrun if
// still queued), and a shutdown drains, then cancels what is left at its deadline.
//
// The framework only parses HTTP; admission and concurrency are the executor's.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
	"predictlab/targets/internal/executor"
	"predictlab/targets/internal/metrics"
	"predictlab/targets/internal/predict"
)

// Config holds the HTTP settings; both frameworks apply them identically.
type Config struct {
	Framework         targetsapi.Framework // targetsapi.Echo or targetsapi.Fiber
	Route             targetsapi.Target    // serves POST Route.PredictPath()
	ReadHeaderTimeout time.Duration        // default 5s: to receive the request headers
	ReadTimeout       time.Duration        // default 15s: to receive the body (echo: the whole request)
	WriteTimeout      time.Duration        // default 60s
	IdleTimeout       time.Duration        // default 120s
	BodyLimit         int64                // bytes, default 1 MiB; larger bodies get 413
	AccessLog         bool                 // log every request (off by default: it distorts measurements)
}

// WithDefaults fills zero fields with the defaults.
func (c Config) WithDefaults() Config {
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = 5 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 15 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.BodyLimit <= 0 {
		c.BodyLimit = 1 << 20
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if _, err := targetsapi.ParseFramework(string(c.Framework)); err != nil {
		return fmt.Errorf("validate config: %w", err)
	}
	if _, err := targetsapi.ParseTarget(string(c.Route)); err != nil {
		return fmt.Errorf("validate config: route: %w", err)
	}
	return nil
}

// Handler is a service's business logic: one predict request run on rt.
type Handler func(ctx context.Context, rt executor.Runtime, body []byte) predict.Response

// Service is what a server serves.
type Service struct {
	Name     string            // "model" or "scoring"; shown on GET /
	Executor executor.Executor // runs Handler
	Handler  Handler
	Metrics  *metrics.Metrics
	Log      zerolog.Logger
}

// Server is a running-or-ready HTTP server.
type Server interface {
	// Serve accepts connections on ln until Shutdown; it returns nil after Shutdown.
	Serve(ln net.Listener) error
	// Shutdown stops accepting, waits for the requests in flight (until ctx is
	// done: then it cancels those still running) and closes the connections.
	Shutdown(ctx context.Context) error
}

// Both frameworks implement Server.
var (
	_ Server = (*echoServer)(nil)
	_ Server = (*fiberServer)(nil)
)

// New builds a server for svc with the framework named in cfg.
func New(cfg Config, svc Service) (Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &core{cfg: cfg, svc: svc}
	c.base, c.cut = context.WithCancel(context.Background())
	c.index = c.buildIndex()
	if cfg.Framework == targetsapi.Echo {
		return newEcho(c), nil
	}
	return newFiber(c), nil
}

// core is the framework-neutral part of both adapters.
type core struct {
	cfg   Config
	svc   Service
	index []byte
	// base is the parent of every request's context; cut cancels it when a
	// shutdown's drain runs out of time, so the requests still running stop
	// (at their next step or wait) instead of holding the shutdown.
	base context.Context
	cut  context.CancelFunc
}

var healthBody = []byte(targetsapi.HealthBody)

func (c *core) buildIndex() []byte {
	type route struct {
		Method string `json:"method"`
		Path   string `json:"path"`
	}
	b, _ := json.Marshal(struct {
		Service string  `json:"service"`
		Routes  []route `json:"routes"`
	}{c.svc.Name, []route{
		{"GET", targetsapi.IndexPath},
		{"GET", targetsapi.HealthPath},
		{"POST", c.cfg.Route.PredictPath()},
		{"GET", targetsapi.MetricsPath},
	}})
	return b
}

// predict runs one predict request through the executor. body must be owned by
// the caller (not framework memory that is reused after the handler returns).
// ctx is cancelled when the client goes away: a queued request is then dropped
// unrun, a running one stops at its next step or wait, and it is counted as
// abandoned rather than answered (the answer would reach no one).
func (c *core) predict(ctx context.Context, body []byte) predict.Response {
	done, abandoned := c.svc.Metrics.RequestStarted()
	var resp predict.Response
	err := c.svc.Executor.Do(ctx, func(ctx context.Context, rt executor.Runtime) {
		resp = c.svc.Handler(ctx, rt, body)
	})
	switch {
	case err == nil:
	case errors.Is(err, executor.ErrOverloaded):
		resp = predict.ErrorResponse(http.StatusServiceUnavailable, "server overloaded: request queue is full")
	case errors.Is(err, executor.ErrClosed):
		resp = predict.ErrorResponse(http.StatusServiceUnavailable, "server shutting down")
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		resp = predict.ErrorResponse(http.StatusServiceUnavailable, "request cancelled")
	default:
		c.svc.Log.Error().Err(err).Msg("predict failed")
		resp = predict.ErrorResponse(http.StatusInternalServerError, "internal server error")
	}
	if resp.Status == 0 {
		resp = predict.ErrorResponse(http.StatusInternalServerError, "internal server error")
	}
	if ctx.Err() != nil {
		abandoned()
		return resp
	}
	done(resp.Status)
	return resp
}

func (c *core) accessLog(method, path string, status int, start time.Time) {
	c.svc.Log.Info().Str("method", method).Str("path", path).Int("status", status).
		Float64("duration_ms", float64(time.Since(start).Microseconds())/1000).Msg("request")
}

// encoded reports whether a Content-Encoding header (its values) asks for a
// decoding. Bodies are never decoded: an inflated body could be any size (a few
// KB of gzip inflate to gigabytes), so they are refused with 415 instead, on
// both frameworks, before any byte is read.
func encoded(values ...string) bool {
	for _, v := range values {
		for _, tok := range strings.Split(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" && !strings.EqualFold(tok, "identity") {
				return true
			}
		}
	}
	return false
}

func unsupportedEncoding() predict.Response {
	return predict.ErrorResponse(http.StatusUnsupportedMediaType, "unsupported Content-Encoding: send the body uncompressed")
}

func (c *core) tooLarge() predict.Response {
	return predict.ErrorResponse(http.StatusRequestEntityTooLarge, c.tooLargeMsg())
}

func (c *core) tooLargeMsg() string {
	return fmt.Sprintf("request body too large: limit is %d bytes", c.cfg.BodyLimit)
}

func jsonError(msg string) []byte {
	return predict.ErrorResponse(0, msg).Body
}
