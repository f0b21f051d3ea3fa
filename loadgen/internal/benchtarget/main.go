// Command benchtarget is the loopback HTTP server loadgen's benchmark
// (loadgen/bench.sh) measures against: GET/POST on any path answers at once
// with a small JSON body; /delay/<ms> answers after that many milliseconds
// (a precise timer, no CPU: see delay.go); /status/<code> answers with that
// status. It is a tool for the benchmark only, not part of the product.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchtarget:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("benchtarget", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:26080", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	body := []byte(`{"detail": 0.5}`)
	delay := newDelayer()
	srv := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			p := string(c.Path())
			switch {
			case strings.HasPrefix(p, "/delay/"):
				ms, _ := strconv.Atoi(strings.TrimPrefix(p, "/delay/"))
				delay.Sleep(time.Duration(ms) * time.Millisecond)
			case strings.HasPrefix(p, "/status/"):
				code, _ := strconv.Atoi(strings.TrimPrefix(p, "/status/"))
				c.SetStatusCode(code)
			}
			c.SetContentType("application/json")
			c.SetBody(body)
		},
		Concurrency:           1 << 20,
		IdleTimeout:           5 * time.Minute,
		NoDefaultDate:         true,
		NoDefaultServerHeader: true,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(*addr) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", *addr, err)
	case <-ctx.Done():
		return srv.Shutdown()
	}
}
