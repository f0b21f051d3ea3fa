// Package config turns loadgen's Locust-compatible command line into a
// serialisable Config and validates it. It holds no global state: Parse builds
// a fresh flag set on every call.
package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// ErrHelp is returned by Parse when -h/--help was given; the usage text has
// already been written to the help writer.
var ErrHelp = errors.New("help requested")

// Config is everything a loadgen run needs to know, as parsed from the command
// line. The zero value is not useful; use Parse or Default.
type Config struct {
	Host            string        `json:"host"`
	Users           int           `json:"users"`
	SpawnRate       float64       `json:"spawn_rate"`
	RunTime         time.Duration `json:"run_time"` // 0 = no limit
	Headless        bool          `json:"headless"`
	CSVPrefix       string        `json:"csv_prefix,omitempty"`
	CSVFullHistory  bool          `json:"csv_full_history,omitempty"`
	StopTimeout     time.Duration `json:"stop_timeout"` // 0 = kill users at once
	ExitCodeOnError int           `json:"exit_code_on_error"`
	OnlySummary     bool          `json:"only_summary,omitempty"`
	PrintStats      bool          `json:"print_stats,omitempty"`
	ResetStats      bool          `json:"reset_stats,omitempty"`
	List            bool          `json:"-"`
	Version         bool          `json:"-"`
	LogLevel        string        `json:"loglevel"`
	JSON            bool          `json:"json,omitempty"`
	ScenarioFile    string        `json:"locustfile,omitempty"`
	UserClasses     []string      `json:"user_classes"`

	// Web UI and HTML report options; carried for the report/webui packages.
	HTMLFile  string `json:"html_file,omitempty"`
	WebHost   string `json:"web_host"`
	WebPort   int    `json:"web_port"`
	WebAuth   string `json:"-"`
	Autostart bool   `json:"autostart,omitempty"`
	Autoquit  int    `json:"autoquit"`

	// UsersSet and SpawnRateSet tell whether -u / -r were given (web UI defaults).
	UsersSet     bool `json:"-"`
	SpawnRateSet bool `json:"-"`
	// Deprecations are warnings to log at startup (e.g. --hatch-rate).
	Deprecations []string `json:"-"`
}

// Default returns the configuration with Locust's defaults.
func Default() Config {
	return Config{
		Users:           1,
		SpawnRate:       1,
		ExitCodeOnError: 1,
		LogLevel:        "INFO",
		WebPort:         8089,
		Autoquit:        -1,
	}
}

// helpEpilogue follows the flag list in --help.
const helpEpilogue = `User classes: ApiUser, ApiSyncUser and ApiAsyncUser are built in (the seed's
benchmark.py; -f benchmark.py selects them too), or -f scenario.yaml defines
others. Name classes as positional arguments; with none, all of them run.

Output is Locust 2.12.1's: log lines and stats tables on stderr, the --csv files
(plus PREFIX_intended.csv, response times from the intended start). Percentiles
come from an HDR histogram (never above Max). See loadgen/COMPAT.md.

Exit codes: 0 clean; --exit-code-on-error (default 1) if any request failed;
1 bad command line or input file; 2 internal error.
`

// Parse parses args (without the program name) into a Config. -h/--help writes
// the usage to help and returns ErrHelp. Any other problem is a one-line error.
// Parse does not call Validate.
func Parse(args []string, help io.Writer) (*Config, error) {
	return ParseEnv(args, help, nil)
}

// EnvName is the environment variable Locust reads for a flag, e.g.
// LOCUST_SPAWN_RATE for --spawn-rate.
func EnvName(flag string) string {
	return "LOCUST_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// ParseEnv is Parse with Locust's environment variables: a flag not given on
// the command line takes the value of its LOCUST_* variable (EnvName) when
// getenv returns a non-empty one. getenv may be nil (no environment).
func ParseEnv(args []string, help io.Writer, getenv func(string) string) (*Config, error) {
	c := Default()
	fs := pflag.NewFlagSet("loadgen", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var runTime, stopTimeout string
	var hatchRate float64
	fs.StringVarP(&c.ScenarioFile, "locustfile", "f", "", "scenario file (YAML) defining user classes")
	fs.StringVarP(&c.Host, "host", "H", "", "host to load test, e.g. http://127.0.0.1:8001")
	fs.IntVarP(&c.Users, "users", "u", c.Users, "peak number of concurrent users")
	fs.Float64VarP(&c.SpawnRate, "spawn-rate", "r", c.SpawnRate, "users started per second")
	fs.Float64Var(&hatchRate, "hatch-rate", 0, "deprecated alias of --spawn-rate")
	_ = fs.MarkHidden("hatch-rate")
	fs.StringVarP(&runTime, "run-time", "t", "", "stop after this long, e.g. 300s, 20m, 1h30m")
	fs.BoolVar(&c.Headless, "headless", false, "run without the web UI and start at once")
	fs.StringVar(&c.CSVPrefix, "csv", "", "write stats to PREFIX_stats.csv, PREFIX_stats_history.csv, ...")
	fs.BoolVar(&c.CSVFullHistory, "csv-full-history", false, "write every entry to the stats history CSV")
	fs.StringVarP(&stopTimeout, "stop-timeout", "s", "", "let users finish their task for up to this long when stopping")
	fs.IntVar(&c.ExitCodeOnError, "exit-code-on-error", c.ExitCodeOnError, "exit code when a request failed")
	fs.BoolVar(&c.OnlySummary, "only-summary", false, "print only the final stats")
	fs.BoolVar(&c.PrintStats, "print-stats", false, "print the stats table in web UI mode too")
	fs.BoolVar(&c.ResetStats, "reset-stats", false, "reset stats once spawning has completed")
	fs.BoolVarP(&c.List, "list", "l", false, "list the available user classes and exit")
	fs.StringVarP(&c.LogLevel, "loglevel", "L", c.LogLevel, "DEBUG, INFO, WARNING, ERROR or CRITICAL")
	fs.BoolVar(&c.JSON, "json", false, "print the final stats as JSON on stdout")
	fs.StringVar(&c.HTMLFile, "html", "", "write an HTML report to this file at the end")
	fs.StringVar(&c.WebHost, "web-host", "", "web UI interface to bind (default 127.0.0.1; '*' for all interfaces)")
	fs.IntVarP(&c.WebPort, "web-port", "P", c.WebPort, "web UI port")
	fs.StringVar(&c.WebAuth, "web-auth", "", "web UI basic auth, in the format username:password")
	fs.BoolVar(&c.Autostart, "autostart", false, "start the test at once in web UI mode")
	fs.IntVar(&c.Autoquit, "autoquit", c.Autoquit, "quit N seconds after the test ends (with --autostart)")
	fs.BoolVarP(&c.Version, "version", "V", false, "print the version and exit")
	fs.Usage = func() {}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(help, "Usage: loadgen [OPTIONS] [UserClass ...]\n\nOptions:\n%s\n%s", fs.FlagUsages(), helpEpilogue)
			return nil, ErrHelp
		}
		return nil, fmt.Errorf("parse flags: %s", oneLine(err.Error()))
	}
	if getenv != nil {
		var envErr error
		fs.VisitAll(func(f *pflag.Flag) {
			if f.Changed || envErr != nil || f.Name == "help" {
				return
			}
			if v := getenv(EnvName(f.Name)); v != "" {
				if err := fs.Set(f.Name, v); err != nil {
					envErr = fmt.Errorf("parse %s=%q: %s", EnvName(f.Name), v, oneLine(err.Error()))
				}
			}
		})
		if envErr != nil {
			return nil, envErr
		}
	}
	c.UserClasses = fs.Args()
	if c.UserClasses == nil {
		c.UserClasses = []string{}
	}
	c.UsersSet = fs.Changed("users")
	c.SpawnRateSet = fs.Changed("spawn-rate")
	if fs.Changed("hatch-rate") {
		c.Deprecations = append(c.Deprecations, "[DEPRECATED] The --hatch-rate parameter has been renamed --spawn-rate")
		c.SpawnRate = hatchRate // Locust: --hatch-rate wins over -r
		c.SpawnRateSet = true
	}
	if fs.Changed("run-time") {
		d, err := ParseTimespan(runTime)
		if err != nil {
			return nil, err
		}
		c.RunTime = d
	}
	if fs.Changed("stop-timeout") {
		d, err := ParseTimespan(stopTimeout)
		if err != nil {
			return nil, fmt.Errorf("parse --stop-timeout %q: %w", stopTimeout, err)
		}
		c.StopTimeout = d
	}
	c.LogLevel = strings.ToUpper(c.LogLevel)
	return &c, nil
}

// Validate reports the first inconsistency in c as a one-line error.
func (c *Config) Validate() error {
	switch {
	case c.Users < 0:
		return fmt.Errorf("invalid --users %d: must be 0 or more", c.Users)
	case math.IsNaN(c.SpawnRate) || math.IsInf(c.SpawnRate, 0) || c.SpawnRate <= 0:
		return fmt.Errorf("invalid --spawn-rate %v: must be above 0", c.SpawnRate)
	case c.RunTime < 0:
		return fmt.Errorf("invalid --run-time %v", c.RunTime)
	case c.CSVFullHistory && c.CSVPrefix == "":
		return errors.New("'--csv-full-history' requires '--csv'.")
	case c.Autoquit != -1 && !c.Autostart:
		return errors.New("--autoquit is only meaningful in combination with --autostart")
	case c.WebPort < 0 || c.WebPort > 65535:
		return fmt.Errorf("invalid --web-port %d", c.WebPort)
	}
	switch c.LogLevel {
	case "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
	default:
		return fmt.Errorf("invalid --loglevel %q: expected DEBUG, INFO, WARNING, ERROR or CRITICAL", c.LogLevel)
	}
	return nil
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
