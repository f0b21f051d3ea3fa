// Package featurestore is the lab's feature store: an embedded Redis-protocol
// server of its own (the few commands the lab uses, bounded against hostile
// input, optional AUTH) seeded with a few feature vectors, and a client that
// reads features over TCP with a real Redis client (go-redis), so the round trip
// is real. The client works the same against a real Redis.
package featurestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// SeedData returns the feature vectors an embedded store starts with, keyed as
// predict.FeatureKey keys them.
func SeedData() map[string]string {
	return map[string]string{
		"features:5.1,3.5,1.4,0.2": `{"sepal_ratio":1.457,"petal_ratio":7.0,"cluster":0}`,
		"features:7,3.2,4.7,1.4":   `{"sepal_ratio":2.188,"petal_ratio":3.357,"cluster":1}`,
		"features:6.3,3.3,6,2.5":   `{"sepal_ratio":1.909,"petal_ratio":2.4,"cluster":2}`,
	}
}

// ClientConfig configures a Client.
type ClientConfig struct {
	URL      string        // redis://[:password@]host:port[/db]
	Password string        // used when URL carries none
	Timeout  time.Duration // dial, read, write and pool-wait timeout
	PoolSize int           // connections kept (default 256)
	// Reseed, when set, is written (SETNX, keys already there are kept) on every new
	// connection: a Redis that restarted empty, e.g. `docker-compose restart redis`,
	// gets its feature vectors back when the client reconnects.
	Reseed map[string]string
}

// Client reads feature vectors from a Redis-protocol store. Safe for concurrent use.
type Client struct {
	rdb *redis.Client
}

// NewClient parses cfg.URL and returns a client. It does not connect yet; a store
// that is down makes each call fail fast, and the client recovers when it is back.
func NewClient(cfg ClientConfig) (*Client, error) {
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse feature store URL: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 256
	}
	if opt.Password == "" {
		opt.Password = cfg.Password
	}
	opt.DialTimeout = cfg.Timeout
	opt.ReadTimeout = cfg.Timeout
	opt.WriteTimeout = cfg.Timeout
	opt.PoolTimeout = cfg.Timeout
	opt.PoolSize = cfg.PoolSize
	opt.MaxRetries = -1   // fail fast; the caller answers 503
	opt.DialerRetries = 1 // one dial attempt per call, no backoff sleeps
	opt.ContextTimeoutEnabled = true
	opt.DisableIdentity = true
	if data := cfg.Reseed; len(data) > 0 {
		opt.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			// One round trip. A failure here is not the connection's: lookups still
			// answer (as misses), so the error is dropped.
			_, _ = cn.Pipelined(ctx, func(p redis.Pipeliner) error {
				for k, v := range data {
					p.SetNX(ctx, k, v, 0)
				}
				return nil
			})
			return nil
		}
	}
	return &Client{rdb: redis.NewClient(opt)}, nil
}

// Features returns the stored features for key, or (nil, nil) on a miss.
func (c *Client) Features(ctx context.Context, key string) ([]byte, error) {
	b, err := c.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get features: %w", err)
	}
	return b, nil
}

// Seed writes each key of data that the store does not hold yet (SETNX, so
// features already there are kept) and returns how many it wrote. A real
// Redis starts empty; this gives it the vectors an embedded store starts with.
func (c *Client) Seed(ctx context.Context, data map[string]string) (int, error) {
	added := 0
	for k, v := range data {
		ok, err := c.rdb.SetNX(ctx, k, v, 0).Result()
		if err != nil {
			return added, fmt.Errorf("seed features: %w", err)
		}
		if ok {
			added++
		}
	}
	return added, nil
}

// Close closes the client's connections.
func (c *Client) Close() error { return c.rdb.Close() }

// SetClientLogger routes the Redis client library's own log lines (e.g. failed
// dials while the store is down) to log at debug level. The library keeps one
// logger per process, so call this once, from main.
func SetClientLogger(log zerolog.Logger) {
	redis.SetLogger(clientLogger{log})
}

type clientLogger struct{ log zerolog.Logger }

func (l clientLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug().Str("component", "redis-client").Msgf(format, v...)
}
