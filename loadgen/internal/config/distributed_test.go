package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The distributed-mode flags come from the command line, LOCUST_* variables
// and config files like every other flag, with Locust 2.12.1's defaults.
func TestDistributedFlags(t *testing.T) {
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "d.conf")
	if err := os.WriteFile(conf, []byte("master-bind-port = 6000\nenable-rebalancing = true\nexpect-workers = 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(c *Config) bool
	}{
		{"defaults", nil, nil, func(c *Config) bool {
			return !c.Master && !c.Worker && c.MasterHost == "127.0.0.1" && c.MasterPort == 5557 &&
				c.MasterBindHost == "*" && c.MasterBindPort == 5557 && c.ExpectWorkers == 1 &&
				c.ExpectWorkersMaxWait == 0 && !c.EnableRebalancing
		}},
		{"worker flags", []string{"--worker", "--master-host", "10.0.0.2", "--master-port", "5600"}, nil, func(c *Config) bool {
			return c.Worker && c.MasterHost == "10.0.0.2" && c.MasterPort == 5600
		}},
		{"master flags", []string{"--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", "0",
			"--expect-workers", "2", "--expect-workers-max-wait", "30", "--enable-rebalancing"}, nil, func(c *Config) bool {
			return c.Master && c.MasterBindHost == "127.0.0.1" && c.MasterBindPort == 0 && c.ExpectWorkers == 2 &&
				c.ExpectWorkersMaxWait == 30 && c.EnableRebalancing
		}},
		{"environment", nil, map[string]string{"LOCUST_WORKER": "true", "LOCUST_MASTER_HOST": "m", "LOCUST_MASTER_PORT": "7"},
			func(c *Config) bool { return c.Worker && c.MasterHost == "m" && c.MasterPort == 7 }},
		{"config file", []string{"--config", conf}, nil, func(c *Config) bool {
			return c.MasterBindPort == 6000 && c.EnableRebalancing && c.ExpectWorkers == 4
		}},
		{"command line wins", []string{"--config", conf, "--expect-workers", "2"}, map[string]string{"LOCUST_EXPECT_WORKERS": "3"},
			func(c *Config) bool { return c.ExpectWorkers == 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				if k == "HOME" {
					return t.TempDir()
				}
				return tt.env[k]
			}
			c, err := ParseEnv(tt.args, io.Discard, getenv)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("%+v", c)
			}
		})
	}
}

func TestDistributedValidate(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--master-port", "0"},
		{"--master-port", "70000"},
		{"--master-bind-port", "-1"},
		{"--expect-workers", "-1"},
		{"--expect-workers-max-wait", "-5"},
	} {
		c, err := Parse(args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: Validate = %v", args, err)
		}
	}
}
