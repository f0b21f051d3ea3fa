package orchestrate

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"predictlab/internal/targetsapi"
	"predictlab/lab/internal/profile"
	"predictlab/lab/internal/progress"
	"predictlab/lab/internal/results"
)

func testConfig(t *testing.T, name string) Config {
	t.Helper()
	p, err := profile.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return Config{Profile: p, Out: "out", Bind: "127.0.0.1", TargetsBin: "bin/targets", LoadgenBin: "bin/loadgen",
		Ports: targetsapi.SeedPorts()}
}

func TestServiceArgs(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t, "seed")
	r := New(cfg, zerolog.Nop(), progress.New(nil, false, 0))
	tests := []struct {
		name, target string
		role         targetsapi.Role
		want         string
	}{
		{"sync model", "sync", targetsapi.Model,
			"model --style blocking --framework echo --route sync --addr 127.0.0.1:5000 --workers 8 --backlog 2048 --loops 1 --cpu-cost 0s --model-delay 40ms-50ms"},
		{"sync scoring", "sync", targetsapi.Scoring,
			"scoring --style blocking --framework echo --route sync --addr 127.0.0.1:5001 --workers 8 --backlog 2048 --loops 1 --cpu-cost 5ms --model-url http://127.0.0.1:5000 --feature-store redis://127.0.0.1:6379 --fanout 2"},
		{"async model", "async", targetsapi.Model,
			"model --style eventloop --framework fiber --route async --addr 127.0.0.1:8000 --workers 8 --backlog 2048 --loops 1 --cpu-cost 2.5ms --model-delay 40ms-50ms"},
		{"async scoring", "async", targetsapi.Scoring,
			"scoring --style eventloop --framework fiber --route async --addr 127.0.0.1:8001 --workers 8 --backlog 2048 --loops 1 --cpu-cost 7.5ms --model-url http://127.0.0.1:8000 --feature-store redis://127.0.0.1:6379 --fanout 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg, _ := cfg.Profile.Target(tc.target)
			if got := strings.Join(r.serviceArgs(tg, tc.role), " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Config)
		ok     bool
	}{
		{"defaults", func(*Config) {}, true},
		{"only async", func(c *Config) { c.Only = "async" }, true},
		{"bad only", func(c *Config) { c.Only = "both" }, false},
		{"bad experiment", func(c *Config) { c.Experiments = []int{5} }, false},
		{"bad port", func(c *Config) { c.Ports.Store = 70000 }, false},
		{"bad bind", func(c *Config) { c.Bind = "my host" }, false},
		{"external without URLs", func(c *Config) { c.External, c.SyncURL = true, "x" }, false},
		{"external", func(c *Config) { c.External, c.SyncURL, c.AsyncURL = true, "http://a:5001", "http://b:8001" }, true},
		{"stated parts without --external", func(c *Config) { n := 8; c.Stated = &results.Stated{SyncWorkers: &n} }, false},
		{"external with stated parts", func(c *Config) {
			n, d := 8, "40ms-50ms"
			c.External, c.SyncURL, c.AsyncURL = true, "http://a:5001", "http://b:8001"
			c.Stated = &results.Stated{SyncWorkers: &n, AsyncLoops: &n, Fanout: &n, ModelDelay: &d}
		}, true},
		{"external with 0 workers", func(c *Config) {
			n := 0
			c.External, c.SyncURL, c.AsyncURL = true, "http://a:5001", "http://b:8001"
			c.Stated = &results.Stated{SyncWorkers: &n}
		}, false},
		{"external with a bad delay", func(c *Config) {
			d := "50ms-40ms"
			c.External, c.SyncURL, c.AsyncURL = true, "http://a:5001", "http://b:8001"
			c.Stated = &results.Stated{ModelDelay: &d}
		}, false},
		{"loadgen workers", func(c *Config) { c.LoadgenWorkers = 2 }, true},
		{"negative loadgen workers", func(c *Config) { c.LoadgenWorkers = -1 }, false},
		{"too many loadgen workers", func(c *Config) { c.LoadgenWorkers = MaxLoadgenWorkers + 1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig(t, "quick")
			tc.modify(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestPortList(t *testing.T) {
	t.Parallel()
	c := testConfig(t, "quick")
	c.Only = "sync"
	var names []string
	for _, p := range c.portList() {
		names = append(names, p.Service)
	}
	if got := strings.Join(names, ","); got != "feature store,sync model,sync scoring" {
		t.Errorf("got %s", got)
	}
	if got := c.experiments(); len(got) != 4 {
		t.Errorf("experiments() = %v, want all four", got)
	}
	c.Experiments = []int{3, 1, 3}
	if got := c.experiments(); len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("experiments() = %v, want [1 3]", got)
	}
}
