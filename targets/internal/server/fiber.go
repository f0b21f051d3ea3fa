package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/valyala/fasthttp"

	"predictlab/internal/targetsapi"
)

type fiberServer struct {
	c        *core
	app      *fiber.App
	mu       sync.Mutex
	ln       net.Listener
	stopping bool
}

func newFiber(c *core) *fiberServer {
	errorHandler := func(ctx *fiber.Ctx, err error) error {
		status, msg := http.StatusInternalServerError, "internal server error"
		var fe *fiber.Error
		if errors.As(err, &fe) {
			status = fe.Code
			switch status {
			case http.StatusNotFound:
				msg = fmt.Sprintf("not found: %s %s", ctx.Method(), ctx.Path())
			case http.StatusMethodNotAllowed:
				msg = fmt.Sprintf("method not allowed: %s %s", ctx.Method(), ctx.Path())
			case http.StatusRequestEntityTooLarge:
				msg = c.tooLargeMsg()
			default:
				msg = strings.ToLower(http.StatusText(status))
			}
		} else {
			c.svc.Log.Error().Err(err).Msg("handler error")
		}
		ctx.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return ctx.Status(status).Send(jsonError(msg))
	}
	app := fiber.New(fiber.Config{
		AppName:               "predictlab-" + c.svc.Name,
		DisableStartupMessage: true,
		// fasthttp has one read timeout, from the first byte to the end of the
		// headers: it gets ReadHeaderTimeout, and the body gets ReadTimeout once
		// the headers are in (HeaderReceived below).
		ReadTimeout:  c.cfg.ReadHeaderTimeout,
		WriteTimeout: c.cfg.WriteTimeout,
		IdleTimeout:  c.cfg.IdleTimeout,
		// fasthttp answers a body over its limit and closes at once, so the client
		// may see a reset instead of the 413. Up to 4× the limit the body is read
		// and the handler answers 413 cleanly; past that fasthttp's early 413 (JSON,
		// through the error handler) remains as the memory bound.
		BodyLimit: int(4 * c.cfg.BodyLimit),
		// ReadBufferSize is also fasthttp's header limit: 64 KiB, as echo's
		// MaxHeaderBytes. ReduceMemoryUsage hands the buffers back while a
		// keep-alive connection is idle, so an idle client costs a few hundred
		// bytes rather than 64 KiB (as on echo, ~4 KiB).
		ReadBufferSize:    64 << 10,
		ReduceMemoryUsage: true,
		ErrorHandler:      errorHandler,
	})
	app.Server().HeaderReceived = func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
		return fasthttp.RequestConfig{ReadTimeout: c.cfg.ReadTimeout}
	}
	app.Use(func(ctx *fiber.Ctx) (err error) {
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				c.svc.Log.Error().Interface("panic", v).Msg("handler panicked")
				err = errorHandler(ctx, errors.New("panic"))
			}
			if c.cfg.AccessLog {
				// Values are read here, before the handler returns: fiber reuses them after.
				c.accessLog(ctx.Method(), ctx.Path(), ctx.Response().StatusCode(), start)
			}
		}()
		if err := ctx.Next(); err != nil {
			return errorHandler(ctx, err)
		}
		return nil
	})
	sendJSON := func(ctx *fiber.Ctx, status int, body []byte) error {
		ctx.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return ctx.Status(status).Send(body)
	}
	app.Get(targetsapi.IndexPath, func(ctx *fiber.Ctx) error { return sendJSON(ctx, http.StatusOK, c.index) })
	app.Get(targetsapi.HealthPath, func(ctx *fiber.Ctx) error { return sendJSON(ctx, http.StatusOK, healthBody) })
	app.Get(targetsapi.MetricsPath, adaptor.HTTPHandler(c.svc.Metrics.Handler()))
	app.Post(c.cfg.Route.PredictPath(), func(ctx *fiber.Ctx) error {
		if encoded(string(ctx.Request().Header.Peek(fiber.HeaderContentEncoding))) {
			r := unsupportedEncoding()
			return sendJSON(ctx, r.Status, r.Body)
		}
		// The raw body: fiber's ctx.Body() would inflate it, with no limit.
		raw := ctx.Request().Body()
		if int64(len(raw)) > c.cfg.BodyLimit {
			r := c.tooLarge()
			return sendJSON(ctx, r.Status, r.Body)
		}
		// Copy: fiber reuses the request's memory once the handler returns.
		body := append([]byte(nil), raw...)
		rctx, stop := watchConn(c.base, ctx.Context().Conn())
		r := c.predict(rctx, body)
		stop()
		return sendJSON(ctx, r.Status, r.Body)
	})
	return &fiberServer{c: c, app: app}
}

func (s *fiberServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	err := s.app.Listener(ln)
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if err != nil && !stopping {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

func (s *fiberServer) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	ln := s.ln
	s.mu.Unlock()
	err := s.app.ShutdownWithContext(ctx)
	if err != nil {
		s.c.cut() // out of time: stop the requests still running
	}
	// fasthttp ignores a Shutdown that comes before Serve has registered its
	// listener; closing it ourselves makes such a Serve return too.
	if ln != nil {
		_ = ln.Close()
	}
	if err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
