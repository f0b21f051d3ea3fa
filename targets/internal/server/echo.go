package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"predictlab/internal/targetsapi"
)

type echoServer struct {
	c   *core
	srv *http.Server
}

func newEcho(c *core) *echoServer {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = func(err error, ctx echo.Context) {
		if ctx.Response().Committed {
			return
		}
		status, msg := http.StatusInternalServerError, "internal server error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status = he.Code
			switch status {
			case http.StatusNotFound:
				msg = fmt.Sprintf("not found: %s %s", ctx.Request().Method, ctx.Request().URL.Path)
			case http.StatusMethodNotAllowed:
				msg = fmt.Sprintf("method not allowed: %s %s", ctx.Request().Method, ctx.Request().URL.Path)
			default:
				msg = strings.ToLower(http.StatusText(status))
			}
		} else {
			c.svc.Log.Error().Err(err).Msg("handler error")
		}
		_ = ctx.JSONBlob(status, jsonError(msg))
	}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ctx echo.Context) (err error) {
			start := time.Now()
			defer func() {
				if v := recover(); v != nil {
					c.svc.Log.Error().Interface("panic", v).Msg("handler panicked")
					err = errors.New("panic")
				}
				if err != nil {
					e.HTTPErrorHandler(err, ctx)
					err = nil
				}
				if c.cfg.AccessLog {
					c.accessLog(ctx.Request().Method, ctx.Request().URL.Path, ctx.Response().Status, start)
				}
			}()
			return next(ctx)
		}
	})
	e.GET(targetsapi.IndexPath, func(ctx echo.Context) error { return ctx.JSONBlob(http.StatusOK, c.index) })
	e.GET(targetsapi.HealthPath, func(ctx echo.Context) error { return ctx.JSONBlob(http.StatusOK, healthBody) })
	e.GET(targetsapi.MetricsPath, echo.WrapHandler(c.svc.Metrics.Handler()))
	e.POST(c.cfg.Route.PredictPath(), func(ctx echo.Context) error {
		req := ctx.Request()
		if encoded(req.Header.Values("Content-Encoding")...) {
			r := unsupportedEncoding()
			return ctx.JSONBlob(r.Status, r.Body)
		}
		if req.ContentLength > c.cfg.BodyLimit {
			r := c.tooLarge()
			return ctx.JSONBlob(r.Status, r.Body)
		}
		body, err := io.ReadAll(http.MaxBytesReader(ctx.Response(), req.Body, c.cfg.BodyLimit))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				r := c.tooLarge()
				return ctx.JSONBlob(r.Status, r.Body)
			}
			c.svc.Log.Debug().Err(err).Msg("read request body")
			return ctx.JSONBlob(http.StatusBadRequest, jsonError("could not read the request body"))
		}
		// Cancelled when the client hangs up (as on fiber, see watchConn).
		r := c.predict(req.Context(), body)
		// WriteTimeout runs from the end of the request headers, so it would
		// include the queue wait and the work: a late answer would be computed,
		// counted, then cut. It bounds the write alone, as on fiber.
		_ = http.NewResponseController(ctx.Response()).SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		return ctx.JSONBlob(r.Status, r.Body)
	})
	srv := &http.Server{
		Handler:           e,
		BaseContext:       func(net.Listener) context.Context { return c.base },
		ReadHeaderTimeout: c.cfg.ReadHeaderTimeout,
		ReadTimeout:       c.cfg.ReadTimeout,
		WriteTimeout:      c.cfg.WriteTimeout,
		IdleTimeout:       c.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(c.svc.Log, "", 0),
	}
	return &echoServer{c: c, srv: srv}
}

func (s *echoServer) Serve(ln net.Listener) error {
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

func (s *echoServer) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		s.c.cut() // out of time: stop the requests still running
		_ = s.srv.Close()
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
