// Package config turns loadgen's Locust-compatible command line, LOCUST_*
// environment variables and Locust config files (locust.conf) into a
// serialisable Config and validates it. It holds no global state: Parse builds
// a fresh flag set on every call.
package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// ErrHelp is returned by Parse when -h/--help was given; the usage text has
// already been written to the help writer.
var ErrHelp = errors.New("help requested")

// Config is everything a loadgen run needs to know, as parsed from the command
// line, the environment and config files. The zero value is not useful; use Parse or Default.
type Config struct {
	Host           string        `json:"host"`
	Users          int           `json:"users"`
	SpawnRate      float64       `json:"spawn_rate"`
	RunTime        time.Duration `json:"run_time"` // 0 = no limit
	Headless       bool          `json:"headless"`
	CSVPrefix      string        `json:"csv_prefix,omitempty"`
	CSVFullHistory bool          `json:"csv_full_history,omitempty"`
	StopTimeout    time.Duration `json:"stop_timeout"` // 0 = kill users at once
	// RequestTimeout fails a request that waits longer than this for the
	// server (--request-timeout, seconds; python-requests' timeout=). 0, the
	// default as in Locust, waits for ever.
	RequestTimeout  time.Duration `json:"request_timeout,omitempty"`
	ExitCodeOnError int           `json:"exit_code_on_error"`
	OnlySummary     bool          `json:"only_summary,omitempty"`
	PrintStats      bool          `json:"print_stats,omitempty"`
	ResetStats      bool          `json:"reset_stats,omitempty"`
	List            bool          `json:"-"`
	// ShowTaskRatio and ShowTaskRatioJSON print the task ratios (text or
	// JSON) and exit, as Locust's --show-task-ratio(-json).
	ShowTaskRatio     bool `json:"-"`
	ShowTaskRatioJSON bool `json:"-"`
	// EqualWeights gives every class and every task weight 1 (--equal-weights).
	EqualWeights bool   `json:"equal_weights,omitempty"`
	Version      bool   `json:"-"`
	LogLevel     string `json:"loglevel"`
	LogFile      string `json:"logfile,omitempty"`
	// Tags and ExcludeTags filter the tasks of the user classes (-T, -E);
	// empty means no filter, as in Locust.
	Tags        []string `json:"tags,omitempty"`
	ExcludeTags []string `json:"exclude_tags,omitempty"`
	// ConfigFiles are the config files that were read, lowest precedence first.
	ConfigFiles  []string `json:"config_files,omitempty"`
	JSON         bool     `json:"json,omitempty"`
	ScenarioFile string   `json:"locustfile,omitempty"`
	UserClasses  []string `json:"user_classes"`

	// Web UI and HTML report options; carried for the report/webui packages.
	HTMLFile string `json:"html_file,omitempty"`
	WebHost  string `json:"web_host"`
	WebPort  int    `json:"web_port"`
	WebAuth  string `json:"-"`
	// WebAllowedHosts are extra names the web UI answers to (the Host
	// header) beyond loopback and its listening addresses.
	WebAllowedHosts []string `json:"web_allowed_hosts,omitempty"`
	Autostart       bool     `json:"autostart,omitempty"`
	Autoquit        int      `json:"autoquit"`

	// Distributed mode, Locust's master/worker protocol (--master, --worker).
	Master bool `json:"master,omitempty"`
	Worker bool `json:"worker,omitempty"`
	// MasterHost and MasterPort are where a worker finds its master.
	MasterHost string `json:"master_host,omitempty"`
	MasterPort int    `json:"master_port,omitempty"`
	// MasterBindHost ("*" = every interface) and MasterBindPort are where a
	// master listens for workers.
	MasterBindHost string `json:"master_bind_host,omitempty"`
	MasterBindPort int    `json:"master_bind_port,omitempty"`
	// ExpectWorkers is how many workers a master waits for before it starts
	// a test by itself (headless, or --autostart from the web UI), for at
	// most ExpectWorkersMaxWait seconds (0 = forever).
	ExpectWorkers        int  `json:"expect_workers,omitempty"`
	ExpectWorkersMaxWait int  `json:"expect_workers_max_wait,omitempty"`
	EnableRebalancing    bool `json:"enable_rebalancing,omitempty"`

	// UsersSet and SpawnRateSet tell whether -u / -r were given (web UI defaults).
	UsersSet     bool `json:"-"`
	SpawnRateSet bool `json:"-"`
	// Deprecations are warnings to log at startup (e.g. --hatch-rate).
	Deprecations []string `json:"-"`

	// origin says where a flag's value came from when not the command line
	// ("LOCUST_USERS", "locust.conf:3: users"), for Validate's errors.
	origin map[string]string
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
		MasterHost:      "127.0.0.1",
		MasterPort:      5557,
		MasterBindHost:  "*",
		MasterBindPort:  5557,
		ExpectWorkers:   1,
	}
}

// helpEpilogue follows the flag list in --help.
const helpEpilogue = `User classes: ApiUser, ApiSyncUser and ApiAsyncUser are built in (the seed's
benchmark.py; -f benchmark.py selects them too), or -f scenario.yaml defines
others. Name classes as positional arguments; with none, all of them run.

A flag not given takes its LOCUST_* variable (LOCUST_SPAWN_RATE for
--spawn-rate), then its key in --config FILE, ./locust.conf or ~/.locust.conf
(first found wins; lines such as spawn-rate = 10, headless = true, tags = [a, b]).

Output is Locust 2.12.1's: log lines (or --logfile) and stats tables on stderr,
the --csv files (plus PREFIX_intended.csv, response times from the intended
start). Percentiles come from an HDR histogram (never above Max). See
loadgen/COMPAT.md.

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

// ParseEnv is Parse with Locust's other sources of settings, as
// configargparse combines them: for each flag the command line wins, then its
// LOCUST_* environment variable (EnvName), then the config files: --config
// FILE, then ./locust.conf, then ~/.locust.conf. A boolean set to false in
// the environment or a file sets nothing, so a lower source can still set it
// (as in Locust, which has no way to unset --headless). getenv may be nil: no
// environment and no ./locust.conf or ~/.locust.conf (--config is still read).
// ~ is $HOME as getenv returns it; ./locust.conf is relative to the working
// directory. Values from the environment and files are checked as the same
// flag on the command line; a bad one names its variable or file and line.
//
// A bad -t/--run-time on the command line returns ErrTimespan together with
// the otherwise complete Config (RunTime 0): Locust reports it later, as a
// log line (to --logfile if given), so the caller can do the same.
func ParseEnv(args []string, help io.Writer, getenv func(string) string) (*Config, error) {
	c := Default()
	fs := pflag.NewFlagSet("loadgen", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var runTime, stopTimeout, configFile string
	var hatchRate float64
	tags := &tagsValue{p: &c.Tags}
	excludeTags := &tagsValue{p: &c.ExcludeTags}
	fs.StringVarP(&c.ScenarioFile, "locustfile", "f", "", "scenario file (YAML) defining user classes")
	fs.StringVar(&configFile, "config", "", "read settings from `FILE`, lines such as users = 10 (also read: ./locust.conf, ~/.locust.conf)")
	fs.StringVarP(&c.Host, "host", "H", "", "host to load test, e.g. http://127.0.0.1:8001")
	fs.IntVarP(&c.Users, "users", "u", c.Users, "peak number of concurrent users")
	fs.Float64VarP(&c.SpawnRate, "spawn-rate", "r", c.SpawnRate, "users started per second")
	fs.Float64Var(&hatchRate, "hatch-rate", 0, "deprecated alias of --spawn-rate")
	_ = fs.MarkHidden("hatch-rate")
	fs.StringVarP(&runTime, "run-time", "t", "", "stop after this long, e.g. 300s, 20m, 1h30m")
	fs.BoolVar(&c.Headless, "headless", false, "run without the web UI and start at once")
	fs.VarP(tags, "tags", "T", "run only the tasks tagged with any of these tags (space-separated)")
	fs.VarP(excludeTags, "exclude-tags", "E", "leave out the tasks tagged with any of these tags (space-separated)")
	fs.StringVar(&c.CSVPrefix, "csv", "", "write stats to PREFIX_stats.csv, PREFIX_stats_history.csv, ...")
	fs.BoolVar(&c.CSVFullHistory, "csv-full-history", false, "write every entry to the stats history CSV")
	fs.StringVarP(&stopTimeout, "stop-timeout", "s", "", "let users finish their task for up to this long when stopping")
	var requestTimeout float64
	fs.Float64Var(&requestTimeout, "request-timeout", 0, "fail a request that waits more than `SECONDS` for the server, as python-requests' timeout= (Locust's failure text ReadTimeout(...)); 0 waits for ever, as Locust")
	fs.IntVar(&c.ExitCodeOnError, "exit-code-on-error", c.ExitCodeOnError, "exit code when a request failed")
	fs.BoolVar(&c.OnlySummary, "only-summary", false, "print only the final stats")
	fs.BoolVar(&c.PrintStats, "print-stats", false, "print the stats table in web UI mode too")
	fs.BoolVar(&c.ResetStats, "reset-stats", false, "reset stats once spawning has completed")
	fs.BoolVarP(&c.List, "list", "l", false, "list the available user classes and exit")
	fs.BoolVar(&c.ShowTaskRatio, "show-task-ratio", false, "print the table of the user classes' task ratios and exit (-u sets the users counted)")
	fs.BoolVar(&c.ShowTaskRatioJSON, "show-task-ratio-json", false, "print the user classes' task ratios as JSON and exit")
	fs.BoolVar(&c.EqualWeights, "equal-weights", false, "give every user class and every task weight 1, overriding the scenario's weights")
	fs.StringVarP(&c.LogLevel, "loglevel", "L", c.LogLevel, "DEBUG, INFO, WARNING, ERROR or CRITICAL")
	fs.StringVar(&c.LogFile, "logfile", "", "append log lines to `FILE` instead of stderr (stats tables stay on stderr)")
	fs.BoolVar(&c.JSON, "json", false, "print the final stats as JSON on stdout")
	fs.StringVar(&c.HTMLFile, "html", "", "write an HTML report to this file at the end")
	fs.StringVar(&c.WebHost, "web-host", "", "web UI interface to bind (default 127.0.0.1; '*' for all interfaces)")
	fs.IntVarP(&c.WebPort, "web-port", "P", c.WebPort, "web UI port")
	fs.StringVar(&c.WebAuth, "web-auth", "", "web UI basic auth, in the format username:password (better given as LOCUST_WEB_AUTH, which ps does not show)")
	fs.StringSliceVar(&c.WebAllowedHosts, "web-allowed-hosts", nil, "extra host names the web UI answers to (comma-separated; '*' for any), beyond localhost and the addresses it listens on")
	fs.BoolVar(&c.Autostart, "autostart", false, "start the test at once in web UI mode")
	fs.IntVar(&c.Autoquit, "autoquit", c.Autoquit, "quit N seconds after the test ends (with --autostart)")
	fs.BoolVar(&c.Master, "master", false, "run as the master of a distributed test (Locust's master/worker protocol)")
	fs.BoolVar(&c.Worker, "worker", false, "run as a worker of a Locust (or loadgen) master")
	fs.StringVar(&c.MasterHost, "master-host", c.MasterHost, "the master's host or IP, for --worker")
	fs.IntVar(&c.MasterPort, "master-port", c.MasterPort, "the master's port, for --worker")
	fs.StringVar(&c.MasterBindHost, "master-bind-host", c.MasterBindHost, "interface the master listens on ('*' = all), for --master")
	fs.IntVar(&c.MasterBindPort, "master-bind-port", c.MasterBindPort, "port the master listens on, for --master")
	fs.IntVar(&c.ExpectWorkers, "expect-workers", c.ExpectWorkers, "workers a headless master waits for before starting")
	fs.IntVar(&c.ExpectWorkersMaxWait, "expect-workers-max-wait", 0, "give up waiting for --expect-workers after this many seconds (0 = never)")
	fs.BoolVar(&c.EnableRebalancing, "enable-rebalancing", false, "redistribute users when workers join or go missing during a test")
	fs.BoolVarP(&c.Version, "version", "V", false, "print the version and exit")
	fs.Usage = func() {}

	args, given := takeTagArgs(fs, args)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(help, "Usage: loadgen [OPTIONS] [UserClass ...]\n\nOptions:\n%s\n%s", fs.FlagUsages(), helpEpilogue)
			return nil, ErrHelp
		}
		return nil, fmt.Errorf("parse flags: %s", oneLine(err.Error()))
	}

	// Lower sources fill only the flags no higher source set.
	src := &sources{fs: fs, set: map[string]bool{}, origin: map[string]string{}}
	fs.Visit(func(f *pflag.Flag) { src.set[f.Name] = true })
	for name, list := range given {
		fs.Lookup(name).Value.(*tagsValue).setList(list)
		fs.Lookup(name).Changed = true
		src.set[name] = true
	}
	if err := src.fillFromEnv(getenv); err != nil {
		return nil, err
	}
	files := configFiles(configFile, getenv)
	for i := len(files) - 1; i >= 0; i-- { // highest precedence first
		if err := src.fillFromFile(files[i]); err != nil {
			return nil, err
		}
	}
	c.origin = src.origin
	c.ConfigFiles = files

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
	var runTimeErr error
	if fs.Changed("run-time") {
		d, err := ParseTimespan(runTime)
		if err != nil {
			runTimeErr = err // ErrTimespan, returned with c (see ParseEnv)
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
	if math.IsNaN(requestTimeout) || requestTimeout < 0 || requestTimeout > maxRequestTimeout {
		return nil, fmt.Errorf("invalid --request-timeout %v: must be from 0 to %d seconds", requestTimeout, maxRequestTimeout)
	}
	c.RequestTimeout = time.Duration(requestTimeout * float64(time.Second))
	c.LogLevel = strings.ToUpper(c.LogLevel)
	return &c, runTimeErr
}

// maxRequestTimeout bounds --request-timeout (seconds): a day.
const maxRequestTimeout = 86400

// flagList returns the flags of fs in definition order.
func flagList(fs *pflag.FlagSet) []*pflag.Flag {
	var out []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) { out = append(out, f) })
	return out
}

// sources fills the flags of fs that a higher source did not set.
type sources struct {
	fs     *pflag.FlagSet
	set    map[string]bool   // flags already set
	origin map[string]string // where a flag's value came from, for Validate
}

// fillFromEnv sets each flag not yet set from its LOCUST_* variable, if not
// empty. getenv may be nil.
func (s *sources) fillFromEnv(getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	for _, f := range flagList(s.fs) {
		if s.set[f.Name] || f.Name == "config" {
			continue
		}
		v := getenv(EnvName(f.Name))
		if v == "" {
			continue
		}
		_, isTags := f.Value.(*tagsValue) // configargparse makes lists for nargs flags only
		applied, err := apply(s.fs, f, v, nil, isTags && strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]"))
		if err != nil {
			return fmt.Errorf("parse %s=%q: %s", EnvName(f.Name), v, err)
		}
		if applied {
			s.set[f.Name], s.origin[f.Name] = true, EnvName(f.Name)
		}
	}
	return nil
}

// fillFromFile sets each flag not yet set from the config file at path. Keys
// of the file are all checked; values only when used. Within the file a
// later line wins, as argparse takes the last of repeated options.
func (s *sources) fillFromFile(path string) error {
	settings, err := readConfigFile(path)
	if err != nil {
		return err
	}
	inFile := map[string]bool{}
	for _, st := range settings {
		name := strings.TrimPrefix(st.Key, "--")
		f := s.fs.Lookup(name)
		if f == nil || name == "help" || name == "" || strings.HasPrefix(st.Key, "-") && !strings.HasPrefix(st.Key, "--") {
			return &FileError{File: path, Line: st.Line, Msg: fmt.Sprintf("unknown key %q (keys are long option names without dashes, e.g. spawn-rate)", st.Key)}
		}
		if s.set[name] || name == "config" { // a config file cannot name another one
			continue
		}
		applied, err := apply(s.fs, f, st.Value, st.List, st.IsList)
		if err != nil {
			return &FileError{File: path, Line: st.Line, Msg: fmt.Sprintf("%s = %s: %s", st.Key, quoteSetting(st), err)}
		}
		if applied {
			inFile[name] = true
			s.origin[name] = fmt.Sprintf("%s:%d: %s", path, st.Line, st.Key)
		}
	}
	for name := range inFile {
		s.set[name] = true
	}
	return nil
}

// apply sets flag f from an environment variable or config file value, as
// configargparse turns one into command-line arguments. A boolean takes
// true/yes/1 (set) or false/no/0 (nothing set: applied is false); the tags
// flags take a list or one value; other flags take one value, parsed as on
// the command line.
func apply(fs *pflag.FlagSet, f *pflag.Flag, value string, list []string, isList bool) (applied bool, err error) {
	if tv, ok := f.Value.(*tagsValue); ok {
		if isList {
			if list == nil {
				list = parseList(value)
			}
			tv.setList(list)
		} else {
			tv.setList([]string{value})
		}
		f.Changed = true
		return true, nil
	}
	if f.Value.Type() == "bool" {
		switch strings.ToLower(value) {
		case "true", "yes", "1":
			return true, fs.Set(f.Name, "true")
		case "false", "no", "0":
			return false, nil
		}
		return false, fmt.Errorf("unexpected value %q: expecting 'true', 'false', 'yes', 'no', '1' or '0'", value)
	}
	if isList {
		return false, fmt.Errorf("%s can't be set to a list", f.Name)
	}
	if err := fs.Set(f.Name, value); err != nil {
		return false, errors.New(oneLine(err.Error()))
	}
	if f.Name == "run-time" || f.Name == "stop-timeout" {
		if _, err := ParseTimespan(value); err != nil {
			return false, err
		}
	}
	return true, nil
}

func quoteSetting(st Setting) string {
	if st.IsList {
		return st.Value
	}
	return strconv.Quote(st.Value)
}

// configFiles lists the config files to read, lowest precedence first:
// ~/.locust.conf and ./locust.conf when they exist (and getenv is not nil),
// then the --config file, which must exist (readConfigFile fails otherwise).
func configFiles(explicit string, getenv func(string) string) []string {
	var out []string
	if getenv != nil {
		home := getenv("HOME")
		for _, p := range []string{filepath.Join(home, ".locust.conf"), "locust.conf"} {
			if p == ".locust.conf" && home == "" {
				continue
			}
			if _, err := os.Stat(p); err == nil {
				out = append(out, p)
			}
		}
	}
	if explicit != "" {
		if strings.HasPrefix(explicit, "~/") && getenv != nil && getenv("HOME") != "" {
			explicit = filepath.Join(getenv("HOME"), explicit[2:])
		}
		out = append(out, explicit)
	}
	return out
}

func readConfigFile(path string) ([]Setting, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	return ParseFile(path, data)
}

// tagsValue is the value of -T/--tags and -E/--exclude-tags: a list of tags,
// Locust's nargs="*" (see takeTagArgs).
type tagsValue struct{ p *[]string }

func (v *tagsValue) String() string { return strings.Join(*v.p, " ") }

// Set is used for --tags=TAG and -TTAG: one tag.
func (v *tagsValue) Set(s string) error { v.setList([]string{s}); return nil }

func (v *tagsValue) Type() string { return "TAG ..." }

func (v *tagsValue) setList(l []string) { *v.p = append([]string{}, l...) }

// negativeNumberRe is argparse's _negative_number_matcher.
var negativeNumberRe = regexp.MustCompile(`^-\d+$|^-\d*\.\d+$`)

// takeTagArgs removes -T/--tags and -E/--exclude-tags from args together
// with the values that follow them, as argparse's nargs="*" takes them: every
// following argument up to the next one that looks like an option (so
// "-T a b ApiUser" makes ApiUser a tag, as in Locust). --tags=x and -Tx give
// one tag and are left to pflag. The last occurrence of a flag wins.
func takeTagArgs(fs *pflag.FlagSet, args []string) (rest []string, given map[string][]string) {
	given = map[string][]string{}
	looksLikeOption := func(a string) bool {
		return len(a) > 1 && a[0] == '-' && !negativeNumberRe.MatchString(a) && !strings.Contains(a, " ")
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(a, "--") && !strings.Contains(a, "="):
			f = fs.Lookup(a[2:])
		case len(a) == 2 && a[0] == '-':
			f = fs.ShorthandLookup(a[1:])
		}
		if f != nil {
			if _, ok := f.Value.(*tagsValue); ok {
				list := []string{}
				for i+1 < len(args) && !looksLikeOption(args[i+1]) && args[i+1] != "--" {
					list = append(list, args[i+1])
					i++
				}
				given[f.Name] = list
				continue
			}
			if f.NoOptDefVal == "" && i+1 < len(args) { // the flag's value follows
				rest = append(rest, a, args[i+1])
				i++
				continue
			}
		}
		rest = append(rest, a)
	}
	return rest, given
}

// Validate reports the first inconsistency in c as a one-line error. A value
// that came from the environment or a config file is named with its variable
// or file and line.
func (c *Config) Validate() error {
	flag, err := c.validate()
	if o, ok := c.origin[flag]; ok && err != nil {
		return fmt.Errorf("%s: %w", o, err)
	}
	return err
}

// validate returns the first error and the flag it is about.
func (c *Config) validate() (string, error) {
	switch {
	case c.Users < 0:
		return "users", fmt.Errorf("invalid --users %d: must be 0 or more", c.Users)
	case math.IsNaN(c.SpawnRate) || math.IsInf(c.SpawnRate, 0) || c.SpawnRate <= 0:
		return "spawn-rate", fmt.Errorf("invalid --spawn-rate %v: must be above 0", c.SpawnRate)
	case c.RunTime < 0:
		return "run-time", fmt.Errorf("invalid --run-time %v", c.RunTime)
	case c.CSVFullHistory && c.CSVPrefix == "":
		return "csv-full-history", errors.New("'--csv-full-history' requires '--csv'.")
	case c.Autoquit != -1 && !c.Autostart:
		return "autoquit", errors.New("--autoquit is only meaningful in combination with --autostart")
	case c.WebPort < 0 || c.WebPort > 65535:
		return "web-port", fmt.Errorf("invalid --web-port %d", c.WebPort)
	case c.MasterPort <= 0 || c.MasterPort > 65535:
		return "master-port", fmt.Errorf("invalid --master-port %d", c.MasterPort)
	case c.MasterBindPort < 0 || c.MasterBindPort > 65535:
		return "master-bind-port", fmt.Errorf("invalid --master-bind-port %d", c.MasterBindPort)
	case c.ExpectWorkers < 0:
		return "expect-workers", fmt.Errorf("invalid --expect-workers %d: must be 0 or more", c.ExpectWorkers)
	case c.ExpectWorkersMaxWait < 0:
		return "expect-workers-max-wait", fmt.Errorf("invalid --expect-workers-max-wait %d: must be 0 or more", c.ExpectWorkersMaxWait)
	}
	switch c.LogLevel {
	case "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
	default:
		return "loglevel", fmt.Errorf("invalid --loglevel %q: expected DEBUG, INFO, WARNING, ERROR or CRITICAL", c.LogLevel)
	}
	return "", nil
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
