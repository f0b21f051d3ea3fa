package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"predictlab/internal/targetsapi"
	"predictlab/internal/testutil"
	"predictlab/targets/internal/featurestore"
)

func allArgs(ports []int) []string {
	return []string{"all",
		"--sync-model-port", strconv.Itoa(ports[0]), "--sync-scoring-port", strconv.Itoa(ports[1]),
		"--async-model-port", strconv.Itoa(ports[2]), "--async-scoring-port", strconv.Itoa(ports[3]),
		"--store-port", strconv.Itoa(ports[4]), "--log-level", "warn",
	}
}

// waitHealthy waits until url answers 200; it fails at once if run returned.
func waitHealthy(t *testing.T, url string, runErr <-chan error) {
	t.Helper()
	testutil.WaitHealthy(t, url, 10*time.Second, runErr)
}

// targets all serves the four routes and stops cleanly on Ctrl-C, also with a
// password on its embedded store (which then refuses clients without it).
func TestAllEndToEnd(t *testing.T) {
	for _, password := range []string{"", "pw"} {
		t.Run("password="+password, func(t *testing.T) { testAll(t, password) })
	}
}

func testAll(t *testing.T, password string) {
	ports := testutil.FreePorts(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	args := allArgs(ports)
	if password != "" {
		args = append(args, "--feature-store-password", password)
	}
	go func() { runErr <- Run(ctx, args, io.Discard, io.Discard) }()

	for i, route := range []targetsapi.Target{targetsapi.Sync, targetsapi.Sync, targetsapi.Async, targetsapi.Async} {
		base := fmt.Sprintf("http://127.0.0.1:%d", ports[i])
		waitHealthy(t, base+targetsapi.HealthPath, runErr)
		resp, err := http.Post(base+route.PredictPath(), "application/json", strings.NewReader("[5.1, 3.5, 1.4, 0.2]"))
		if err != nil {
			t.Fatalf("predict on %s: %v", base, err)
		}
		var d struct {
			Detail float64 `json:"detail"`
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || d.Detail < 0.04 || d.Detail > 0.05 {
			t.Fatalf("predict on %s: %d %v %v, want 200 and detail in [0.04, 0.05]", base, resp.StatusCode, d.Detail, err)
		}
	}
	if password != "" {
		c, err := featurestore.NewClient(featurestore.ClientConfig{URL: fmt.Sprintf("redis://127.0.0.1:%d", ports[4])})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Features(context.Background(), "features:5.1,3.5,1.4,0.2")
		c.Close()
		if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Fatalf("store read without the password: %v, want NOAUTH", err)
		}
	}
	cancel() // as Ctrl-C
	if err := <-runErr; err != nil {
		t.Fatalf("targets all after Ctrl-C: %v, want nil (exit 0)", err)
	}
	for _, p := range ports { // nothing left running
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Fatalf("port %d still in use after shutdown: %v", p, err)
		}
		_ = ln.Close()
	}
}

func TestAllPortInUse(t *testing.T) {
	for _, busy := range []int{0, 3, 4} { // a model port, the last service port, the store port
		t.Run(strconv.Itoa(busy), func(t *testing.T) {
			ports := testutil.FreePorts(t, 5)
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", ports[busy]))
			if err != nil {
				t.Fatalf("listen: %v", err)
			}
			defer ln.Close()
			err = Run(context.Background(), allArgs(ports), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "address already in use") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("targets all with port %d taken: %v, want a one-line 'address already in use' error", ports[busy], err)
			}
			for i, p := range ports { // nothing left running
				if i == busy {
					continue
				}
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					t.Fatalf("port %d left open after the failed start: %v", p, err)
				}
				_ = l.Close()
			}
		})
	}
}

func TestSingleServicePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	for _, args := range [][]string{
		{"model", "--addr", addr},
		{"scoring", "--style", "eventloop", "--addr", addr},
		{"featurestore", "--addr", addr},
	} {
		err := Run(context.Background(), args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("%v: %v, want 'address already in use'", args, err)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	if err := Run(context.Background(), []string{"healthcheck", ok.URL}, io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck of a 200: %v", err)
	}
	if err := Run(context.Background(), []string{"healthcheck", bad.URL}, io.Discard, io.Discard); err == nil {
		t.Fatal("healthcheck of a 503 succeeded")
	}
	dead := testutil.FreePorts(t, 1)[0]
	if err := Run(context.Background(), []string{"healthcheck", fmt.Sprintf("http://127.0.0.1:%d/", dead)}, io.Discard, io.Discard); err == nil {
		t.Fatal("healthcheck of a closed port succeeded")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"healthcheck"},
		{"model", "--style", "threads"},
		{"model", "--framework", "gin"},
		{"model", "--model-delay", "50ms-40ms"},
		{"scoring", "--workers", "0"},
		{"scoring", "--route", "both"},
		{"all", "--store-port", "70000"},
		{"all", "--log-level", "loud"},
		{"model", "--no-such-flag"},
	} {
		err := Run(context.Background(), args, io.Discard, io.Discard)
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"scoring", "--help"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "--model-url") {
		t.Errorf("scoring --help: %v, output %q", err, out.String())
	}
}

// scoring --seed-features writes the sample vectors into an empty store before
// it listens, and refuses to start when the store cannot be reached.
func TestScoringSeedFeatures(t *testing.T) {
	m := miniredis.RunT(t) // empty, like a fresh Redis
	c, err := featurestore.NewClient(featurestore.ClientConfig{URL: "redis://" + m.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := testutil.FreePorts(t, 1)[0]
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() {
		runErr <- Run(ctx, []string{"scoring", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--feature-store", "redis://" + m.Addr(),
			"--seed-features", "--log-level", "warn"}, io.Discard, io.Discard)
	}()
	waitHealthy(t, fmt.Sprintf("http://127.0.0.1:%d"+targetsapi.HealthPath, port), runErr)
	for k, v := range featurestore.SeedData() {
		if got, err := c.Features(context.Background(), k); err != nil || string(got) != v {
			t.Errorf("after --seed-features, %s = %q, %v; want %q", k, got, err, v)
		}
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Fatalf("scoring: %v", err)
	}

	dead := testutil.FreePorts(t, 1)[0]
	err = Run(context.Background(), []string{"scoring", "--addr", "127.0.0.1:0", "--seed-features",
		"--feature-store", fmt.Sprintf("redis://127.0.0.1:%d", dead), "--store-timeout", "200ms"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "seed features") {
		t.Fatalf("scoring --seed-features with no store: %v, want a seed error", err)
	}
}
