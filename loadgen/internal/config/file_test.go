package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The expected results below were checked against configargparse 1.5.3's
// DefaultConfigFileParser (Debian's python3-configargparse, used by Locust
// 2.12.1), line by line.
func TestParseFile(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []Setting
	}{
		{"equals", "users = 150\n", []Setting{{Key: "users", Value: "150", Line: 1}}},
		{"colon", "host: http://127.0.0.1:8001\n", []Setting{{Key: "host", Value: "http://127.0.0.1:8001", Line: 1}}},
		{"space", "spawn-rate 10\n", []Setting{{Key: "spawn-rate", Value: "10", Line: 1}}},
		{"no spaces", "run-time=10m\n", []Setting{{Key: "run-time", Value: "10m", Line: 1}}},
		{"dashes", "--users 4\n", []Setting{{Key: "--users", Value: "4", Line: 1}}},
		{"bare key is true", "headless\n", []Setting{{Key: "headless", Value: "true", Line: 1}}},
		{"empty value", "csv =\n", []Setting{{Key: "csv", Value: "", Line: 1}}},
		{"quotes", "host = \"http://q\"\ncsv 'out/x'\n", []Setting{{Key: "host", Value: "http://q", Line: 1}, {Key: "csv", Value: "out/x", Line: 2}}},
		{"unclosed quote kept", "host = \"http://q\n", []Setting{{Key: "host", Value: "\"http://q", Line: 1}}},
		{"comments and blanks", "# c\n; c\n\n  \n[section]\n---\nusers = 5 # five\nhost = http://x/#frag ; c\n",
			[]Setting{{Key: "users", Value: "5", Line: 7}, {Key: "host", Value: "http://x/#frag", Line: 8}}},
		{"crlf and tabs", "users = 4\r\nhost\t=\thttp://q\r\n", []Setting{{Key: "users", Value: "4", Line: 1}, {Key: "host", Value: "http://q", Line: 2}}},
		{"lone cr ends a line", "users = 4\rhost = h", []Setting{{Key: "users", Value: "4", Line: 1}, {Key: "host", Value: "h", Line: 2}}},
		{"list", "tags = [a, b]\n", []Setting{{Key: "tags", Value: "[a, b]", List: []string{"a", "b"}, IsList: true, Line: 1}}},
		{"json list", `tags = ["a b", 1, true]` + "\n", []Setting{{Key: "tags", Value: `["a b", 1, true]`, List: []string{"a b", "1", "True"}, IsList: true, Line: 1}}},
		{"empty list", "tags = []\n", []Setting{{Key: "tags", Value: "[]", List: []string{}, IsList: true, Line: 1}}},
		{"last value, first place", "users = 3\nhost = h\nusers = 4\n", []Setting{{Key: "users", Value: "4", Line: 3}, {Key: "host", Value: "h", Line: 2}}},
		{"underscores kept", "spawn_rate = 3\n", []Setting{{Key: "spawn_rate", Value: "3", Line: 1}}},
		{"python white space", "\u00a0users\u00a0=\u00a0 5\u3000\n", []Setting{{Key: "users", Value: "5", Line: 1}}},
		{"empty file", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFile("c.conf", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"hash inside key", "a#b\n", `c.conf:1: unexpected line "a#b": expected key = value`},
		{"semicolon inside key", "x\n\nabc;d\n", `c.conf:3: unexpected line "abc;d"`},
		{"not utf-8", "users = 1\nhost = \xff\n", "c.conf:2: not UTF-8 text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("c.conf", []byte(tt.doc))
			var fe *FileError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		"users = 150\nspawn-rate: 10\nheadless\n# c\n[s]\n", "tags = [a, \"b\"]\n", "host = 'x' ; c\r\n",
		"a#b", "---\n;\n", "k=[1, [2]]", "\u00a0k\u3000v\n", "k \"v\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		settings, err := ParseFile("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf:") || strings.ContainsAny(err.Error(), "\n") && !strings.Contains(err.Error(), `\n`) {
				t.Fatalf("error %q does not name the file or is not one line", err)
			}
			return
		}
		lines := len(splitLines(data))
		seen := map[string]bool{}
		for _, s := range settings {
			if s.Key == "" || strings.ContainsAny(s.Key, ":=;#") || strings.IndexFunc(s.Key, isPyWS) >= 0 {
				t.Fatalf("bad key %q", s.Key)
			}
			if seen[s.Key] {
				t.Fatalf("key %q twice", s.Key)
			}
			seen[s.Key] = true
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("line %d of %d", s.Line, lines)
			}
			if s.IsList != (strings.HasPrefix(s.Value, "[") && strings.HasSuffix(s.Value, "]")) || !utf8.ValidString(s.Value) {
				t.Fatalf("setting %+v", s)
			}
		}
	})
}

// writeFile writes text to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigPrecedence checks configargparse's order, as checked with Locust
// 2.12.1: command line > LOCUST_* > --config > ./locust.conf > ~/.locust.conf
// > default, key by key.
func TestConfigPrecedence(t *testing.T) {
	home, work := t.TempDir(), t.TempDir()
	writeFile(t, home, ".locust.conf", "users = 1\nspawn-rate = 1.5\nrun-time = 1m\nhost = http://home\ncsv = home\nheadless = true\n")
	writeFile(t, work, "locust.conf", "users = 2\nspawn-rate = 2.5\nrun-time = 2m\nhost = http://cwd\n")
	explicit := writeFile(t, t.TempDir(), "x.conf", "users = 3\nspawn-rate = 3.5\nrun-time = 3m\n# host not set here\n")
	t.Setenv("HOME", home)
	t.Chdir(work)
	type want struct {
		users   int
		rate    float64
		runTime time.Duration
		host    string
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want want
	}{
		{"both default files: ./locust.conf wins", nil, nil, want{2, 2.5, 2 * time.Minute, "http://cwd"}},
		{"--config wins over both", []string{"--config", explicit}, nil, want{3, 3.5, 3 * time.Minute, "http://cwd"}},
		{"env wins over files", []string{"--config", explicit}, map[string]string{"LOCUST_USERS": "4", "LOCUST_HOST": "http://env"}, want{4, 3.5, 3 * time.Minute, "http://env"}},
		{"flag wins over env", []string{"--config=" + explicit, "-u", "5", "--run-time=5m"}, map[string]string{"LOCUST_USERS": "4"}, want{5, 3.5, 5 * time.Minute, "http://cwd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "HOME" {
					return home
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
			got := want{c.Users, c.SpawnRate, c.RunTime, c.Host}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if c.CSVPrefix != "home" || !c.Headless || !c.UsersSet {
				t.Fatalf("~/.locust.conf's csv/headless lost, or users not marked as given: %+v", c)
			}
		})
	}

	// Without ./locust.conf, ~/.locust.conf applies; HOME comes from getenv.
	t.Chdir(t.TempDir())
	c, err := ParseEnv(nil, io.Discard, os.Getenv)
	if err != nil || c.Users != 1 || c.Host != "http://home" {
		t.Fatalf("home file: %+v, %v", c, err)
	}
	if !reflect.DeepEqual(c.ConfigFiles, []string{filepath.Join(home, ".locust.conf")}) {
		t.Fatalf("ConfigFiles = %q", c.ConfigFiles)
	}
	// Parse (no environment) reads no default files.
	if c, err := Parse(nil, io.Discard); err != nil || c.Users != 1 || c.Host != "" || len(c.ConfigFiles) != 0 {
		t.Fatalf("Parse read a default file: %+v, %v", c, err)
	}
}

// TestConfigBooleans: false in a higher source sets nothing, so a lower
// source's true still applies (Locust: LOCUST_HEADLESS=false and
// "headless = false" in --config do not undo ./locust.conf's headless).
func TestConfigBooleans(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "locust.conf", "headless = true\nreset-stats = yes\n")
	off := writeFile(t, dir, "off.conf", "headless = false\nonly-summary = 1\nprint-stats = No\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"false in --config", []string{"--config", off}, nil},
		{"false in the environment", nil, map[string]string{"LOCUST_HEADLESS": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseEnv(tt.args, io.Discard, func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !c.Headless || !c.ResetStats || c.PrintStats {
				t.Fatalf("got %+v", c)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, doc, want string }{
		{"unknown key", "users = 1\nbogus = 1\n", `c.conf:2: unknown key "bogus"`},
		{"underscore key", "spawn_rate = 3\n", `c.conf:1: unknown key "spawn_rate"`},
		{"short option", "-u = 3\n", `c.conf:1: unknown key "-u"`},
		{"help", "help = true\n", `c.conf:1: unknown key "help"`},
		{"bad int", "\nusers = x\n", `c.conf:2: users = "x": invalid argument "x" for "-u, --users" flag`},
		{"bare int key", "users\n", `c.conf:1: users = "true": invalid argument`},
		{"empty int", "users =\n", `c.conf:1: users = "": invalid argument`},
		{"bad float", "spawn-rate: fast\n", `c.conf:1: spawn-rate = "fast": invalid argument`},
		{"bad bool", "headless = maybe\n", `c.conf:1: headless = "maybe": unexpected value "maybe": expecting 'true', 'false', 'yes', 'no', '1' or '0'`},
		{"list for a value", "users = [1]\n", "c.conf:1: users = [1]: users can't be set to a list"},
		{"bad run time", "run-time = 1.5h\n", `c.conf:1: run-time = "1.5h": Valid --run-time formats are`},
		{"bad stop timeout", "stop-timeout = x\n", `c.conf:1: stop-timeout = "x": Valid --run-time formats are`},
		{"bad syntax", "users = 1\nabc;d\n", `c.conf:2: unexpected line "abc;d"`},
		{"negative users (Validate)", "# c\nusers = -1\n", "c.conf:2: users: invalid --users -1: must be 0 or more"},
		{"bad loglevel (Validate)", "loglevel = loud\n", `c.conf:1: loglevel: invalid --loglevel "LOUD"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, dir, "c.conf", tt.doc)
			c, err := Parse([]string{"--config", p}, io.Discard)
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, tt.want)) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v\nwant one line starting %q", err, filepath.Join(dir, tt.want))
			}
		})
	}
	if _, err := Parse([]string{"--config", filepath.Join(dir, "missing.conf")}, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "read config file: open "+filepath.Join(dir, "missing.conf")+": no such file or directory") {
		t.Fatalf("missing --config: %v", err)
	}
	// A value the command line overrides is not read, so not checked (as in Locust).
	p := writeFile(t, dir, "c.conf", "users = x\n")
	if c, err := Parse([]string{"--config", p, "-u", "2"}, io.Discard); err != nil || c.Users != 2 {
		t.Fatalf("overridden bad value: %+v, %v", c, err)
	}
	// --help reads no config file.
	if _, err := Parse([]string{"--config", filepath.Join(dir, "missing.conf"), "--help"}, io.Discard); !errors.Is(err, ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
}

func TestTags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name           string
		args           []string
		env            map[string]string
		file           string
		tags, excluded []string
		classes        []string
	}{
		{"none", nil, nil, "", nil, nil, []string{}},
		{"space separated, takes what follows", []string{"-T", "a", "b", "ApiUser"}, nil, "", []string{"a", "b", "ApiUser"}, nil, []string{}},
		{"stops at an option", []string{"ApiUser", "--tags", "a", "-E", "b", "c", "--headless", "X"}, nil, "", []string{"a"}, []string{"b", "c"}, []string{"ApiUser", "X"}},
		{"equals form is one tag", []string{"--tags=a,b", "-Ec", "X"}, nil, "", []string{"a,b"}, []string{"c"}, []string{"X"}},
		{"no values", []string{"-T"}, nil, "", []string{}, nil, []string{}},
		{"after a value flag", []string{"-H", "-T", "X"}, nil, "", nil, nil, []string{"X"}},
		{"env is one tag", nil, map[string]string{"LOCUST_TAGS": "a b"}, "", []string{"a b"}, nil, []string{}},
		{"env list", nil, map[string]string{"LOCUST_TAGS": "[a, b]", "LOCUST_EXCLUDE_TAGS": `["c"]`}, "", []string{"a", "b"}, []string{"c"}, []string{}},
		{"file", nil, nil, "tags = [a, b]\nexclude-tags = c d\n", []string{"a", "b"}, []string{"c d"}, []string{}},
		{"flag wins over file", []string{"-T", "z"}, nil, "tags = [a, b]\n", []string{"z"}, nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append([]string{"--config", writeFile(t, dir, "c.conf", tt.file)}, args...)
			}
			c, err := ParseEnv(args, io.Discard, func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Tags, tt.tags) || !reflect.DeepEqual(c.ExcludeTags, tt.excluded) || !reflect.DeepEqual(c.UserClasses, tt.classes) {
				t.Fatalf("tags %q excluded %q classes %q", c.Tags, c.ExcludeTags, c.UserClasses)
			}
		})
	}
}

func TestHelpListsNewFlags(t *testing.T) {
	var sb strings.Builder
	if _, err := Parse([]string{"-h"}, &sb); !errors.Is(err, ErrHelp) {
		t.Fatal(err)
	}
	for _, want := range []string{"--config FILE", "-T, --tags TAG ...", "-E, --exclude-tags TAG ...", "--logfile FILE"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, sb.String())
		}
	}
}

// A bad -t comes back as ErrTimespan with the rest of the Config, so that
// run can log it where --logfile says, after listing classes (as Locust).
func TestRunTimeErrorKeepsConfig(t *testing.T) {
	c, err := Parse([]string{"-t", "1.5h", "--logfile", "x.log", "-l"}, io.Discard)
	if !errors.Is(err, ErrTimespan) || c == nil || c.LogFile != "x.log" || !c.List || c.RunTime != 0 {
		t.Fatalf("got %+v, %v", c, err)
	}
}
