package config

import (
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTimespan(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"20", 20 * time.Second, false},
		{"20s", 20 * time.Second, false},
		{"300s", 300 * time.Second, false},
		{"3m", 180 * time.Second, false},
		{"2h", 7200 * time.Second, false},
		{"1h20m", 4800 * time.Second, false},
		{"3h30m10s", 12610 * time.Second, false},
		{"90m", 5400 * time.Second, false},
		{"1m90s", 150 * time.Second, false},
		{"10ms", 600 * time.Second, false}, // Locust quirk: parses as 10m
		{"5s3m", 5 * time.Second, false},   // trailing text ignored
		{"0", 0, false},
		{"1.5h", 0, true},
		{"1d", 0, true},
		{"abc", 0, true},
		{"", 0, true},
		{"-5", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999999999h", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTimespan(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTimespan(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseTimespan(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzParseTimespan(f *testing.F) {
	for _, s := range []string{"20", "1h20m", "10ms", "5s3m", "abc", "3h30m10s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTimespan(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("error with non-zero duration %v", d)
			}
			return
		}
		if d < 0 || d%time.Second != 0 {
			t.Fatalf("ParseTimespan(%q) = %v: want whole non-negative seconds", s, d)
		}
	})
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c *Config)
	}{
		{"seed command", strings.Fields("--host http://localhost:8001 --headless --users 150 --spawn-rate 150 --run-time 300s --csv=output/x ApiAsyncUser"),
			func(t *testing.T, c *Config) {
				if c.Host != "http://localhost:8001" || !c.Headless || c.Users != 150 || c.SpawnRate != 150 ||
					c.RunTime != 300*time.Second || c.CSVPrefix != "output/x" || !reflect.DeepEqual(c.UserClasses, []string{"ApiAsyncUser"}) {
					t.Errorf("got %+v", c)
				}
			}},
		{"short forms", strings.Fields("-H http://h -u10 -r 2.5 -t=1h20m -s 5 -L debug -P 9000"),
			func(t *testing.T, c *Config) {
				if c.Host != "http://h" || c.Users != 10 || c.SpawnRate != 2.5 || c.RunTime != 80*time.Minute ||
					c.StopTimeout != 5*time.Second || c.LogLevel != "DEBUG" || c.WebPort != 9000 {
					t.Errorf("got %+v", c)
				}
			}},
		{"defaults", nil, func(t *testing.T, c *Config) {
			if c.Users != 1 || c.SpawnRate != 1 || c.ExitCodeOnError != 1 || c.RunTime != 0 || c.UsersSet || len(c.UserClasses) != 0 {
				t.Errorf("got %+v", c)
			}
		}},
		{"hatch-rate alias", []string{"--hatch-rate", "7"}, func(t *testing.T, c *Config) {
			if c.SpawnRate != 7 || len(c.Deprecations) != 1 {
				t.Errorf("got %+v", c)
			}
		}},
		{"hatch-rate wins over spawn-rate", []string{"-r", "1", "--hatch-rate", "7"}, func(t *testing.T, c *Config) {
			if c.SpawnRate != 7 || len(c.Deprecations) != 1 {
				t.Errorf("got %+v", c)
			}
		}},
		{"web flags", strings.Fields("--html out/r.html --web-host 127.0.0.1 --web-port 27089 --web-auth a:b --autostart --autoquit 3"),
			func(t *testing.T, c *Config) {
				if c.HTMLFile != "out/r.html" || c.WebHost != "127.0.0.1" || c.WebPort != 27089 || c.WebAuth != "a:b" || !c.Autostart || c.Autoquit != 3 {
					t.Errorf("got %+v", c)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--nope"}, "unknown flag: --nope"},
		{"bad int", []string{"-u", "x"}, "invalid argument"},
		{"bad run time", []string{"-t", "1.5h"}, "Valid --run-time formats are"},
		{"bad stop timeout", []string{"-s", "x"}, "--stop-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.args, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tt.want)
			}
		})
	}
	var sb strings.Builder
	if _, err := Parse([]string{"--help"}, &sb); !errors.Is(err, ErrHelp) || !strings.Contains(sb.String(), "--spawn-rate") {
		t.Fatalf("help: err=%v out=%q", err, sb.String())
	}
	// The web UI binds 127.0.0.1 unless told otherwise (webui.Options.Host).
	if !strings.Contains(sb.String(), "(default 127.0.0.1; '*' for all interfaces)") {
		t.Errorf("--web-host help does not give its default:\n%s", sb.String())
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"negative users", func(c *Config) { c.Users = -1 }, "--users"},
		{"zero rate", func(c *Config) { c.SpawnRate = 0 }, "--spawn-rate"},
		{"full history without csv", func(c *Config) { c.CSVFullHistory = true }, "requires '--csv'"},
		{"autoquit without autostart", func(c *Config) { c.Autoquit = 5 }, "--autostart"},
		{"bad loglevel", func(c *Config) { c.LogLevel = "LOUD" }, "--loglevel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mod(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseEnv(t *testing.T) {
	env := map[string]string{"LOCUST_HOST": "http://env:1", "LOCUST_USERS": "7", "LOCUST_HEADLESS": "true",
		"LOCUST_RUN_TIME": "2m", "LOCUST_SPAWN_RATE": "3"}
	getenv := func(k string) string { return env[k] }
	c, err := ParseEnv([]string{"-u", "9"}, io.Discard, getenv)
	if err != nil {
		t.Fatal(err)
	}
	// The command line wins over the environment.
	if c.Host != "http://env:1" || c.Users != 9 || !c.Headless || c.RunTime != 2*time.Minute || c.SpawnRate != 3 || !c.SpawnRateSet {
		t.Fatalf("got %+v", c)
	}
	env["LOCUST_USERS"] = "many"
	if _, err := ParseEnv(nil, io.Discard, getenv); err == nil || !strings.Contains(err.Error(), "LOCUST_USERS") {
		t.Fatalf("bad env value: %v", err)
	}
	if EnvName("csv-full-history") != "LOCUST_CSV_FULL_HISTORY" {
		t.Fatal(EnvName("csv-full-history"))
	}
}

func TestTaskRatioFlags(t *testing.T) {
	c, err := Parse([]string{"--show-task-ratio", "--show-task-ratio-json", "--equal-weights", "-u", "5"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.ShowTaskRatio || !c.ShowTaskRatioJSON || !c.EqualWeights || !c.UsersSet || c.Users != 5 {
		t.Errorf("parsed %+v", c)
	}
	// As every flag, --equal-weights also comes from the environment.
	env := map[string]string{"LOCUST_EQUAL_WEIGHTS": "true", "LOCUST_USERS": "3"}
	c, err = ParseEnv(nil, io.Discard, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !c.EqualWeights || c.ShowTaskRatio || !c.UsersSet || c.Users != 3 {
		t.Errorf("from the environment: %+v", c)
	}
}

// The web UI's password can come from LOCUST_WEB_AUTH (not shown by ps), and
// its extra host names from --web-allowed-hosts or LOCUST_WEB_ALLOWED_HOSTS.
func TestWebAuthAndAllowedHostsFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LOCUST_WEB_AUTH": "alice:s3:cret", "LOCUST_WEB_ALLOWED_HOSTS": "loadgen.lan,10.0.0.5"}
	c, err := ParseEnv(nil, io.Discard, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.WebAuth != "alice:s3:cret" || !slices.Equal(c.WebAllowedHosts, []string{"loadgen.lan", "10.0.0.5"}) {
		t.Fatalf("web auth %q, allowed hosts %q", c.WebAuth, c.WebAllowedHosts)
	}
	c, err = ParseEnv([]string{"--web-allowed-hosts", "a.example", "--web-allowed-hosts", "b.example,c.example"}, io.Discard, nil)
	if err != nil || !slices.Equal(c.WebAllowedHosts, []string{"a.example", "b.example", "c.example"}) {
		t.Fatalf("flag: %v %q", err, c.WebAllowedHosts)
	}
}

func TestRequestTimeoutFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want time.Duration
		err  string
	}{
		{nil, 0, ""},
		{[]string{"--request-timeout", "5"}, 5 * time.Second, ""},
		{[]string{"--request-timeout", "0.25"}, 250 * time.Millisecond, ""},
		{[]string{"--request-timeout", "-1"}, 0, "invalid --request-timeout -1"},
		{[]string{"--request-timeout", "NaN"}, 0, "invalid --request-timeout NaN"},
		{[]string{"--request-timeout", "1e300"}, 0, "invalid --request-timeout 1e+300"},
	}
	for _, tt := range tests {
		c, err := ParseEnv(tt.args, io.Discard, nil)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || c.RequestTimeout != tt.want {
			t.Errorf("%v: %v, %v; want %v", tt.args, c.RequestTimeout, err, tt.want)
		}
	}
}
