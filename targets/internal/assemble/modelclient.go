package assemble

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"predictlab/internal/targetsapi"
)

// ModelClient calls a model service over HTTP with a blocking client (each call
// holds its goroutine until the answer is read). Safe for concurrent use.
type ModelClient struct {
	url string
	hc  *http.Client
	tr  *http.Transport
}

// NewModelClient returns a client that POSTs to base + route.PredictPath().
func NewModelClient(base string, route targetsapi.Target) (*ModelClient, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("parse model URL %q: want http://host:port", base)
	}
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &ModelClient{
		url: strings.TrimRight(base, "/") + route.PredictPath(),
		hc:  &http.Client{Transport: tr},
		tr:  tr,
	}, nil
}

// Predict POSTs body and returns the body of a 200 answer.
func (c *ModelClient) Predict(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build model request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call model: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The model's own body is not passed on: it may be anything, of any size.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("call model: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read model answer: %w", err)
	}
	return b, nil
}

// Close closes idle connections.
func (c *ModelClient) Close() { c.tr.CloseIdleConnections() }
