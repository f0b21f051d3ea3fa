// Package locustlog writes zerolog events as Locust 2.12 log lines:
//
//	[2026-11-27 06:36:20,241] vm/INFO/locust.runners: Ramping to 150 users at a rate of 150.00 per second
//
// The logger name comes from the event's "logger" field (Named sets it;
// "root" when absent). Writer serialises whole lines, so stats tables written
// to the same Writer never interleave with log lines.
package locustlog

import (
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Writer is an io.Writer safe for concurrent use: each Write is atomic.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter wraps w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes p in one piece.
func (s *Writer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

type formatter struct {
	out   io.Writer
	host  string
	clock func() time.Time
}

// Levels maps Locust's --loglevel names to zerolog levels.
var Levels = map[string]zerolog.Level{
	"DEBUG": zerolog.DebugLevel, "INFO": zerolog.InfoLevel, "WARNING": zerolog.WarnLevel,
	"ERROR": zerolog.ErrorLevel, "CRITICAL": zerolog.FatalLevel,
}

var pyLevel = map[string]string{
	"debug": "DEBUG", "info": "INFO", "warn": "WARNING", "error": "ERROR", "fatal": "CRITICAL", "panic": "CRITICAL",
}

// New returns a logger writing Locust-format lines to out at level and above.
// host is the hostname shown in each line; clock (nil = time.Now) stamps lines
// in local time.
func New(out io.Writer, host string, level zerolog.Level, clock func() time.Time) zerolog.Logger {
	if clock == nil {
		clock = time.Now
	}
	return zerolog.New(&formatter{out: out, host: host, clock: clock}).Level(level)
}

// Named returns l logging under the Locust logger name (e.g. "locust.main").
func Named(l zerolog.Logger, name string) zerolog.Logger {
	return l.With().Str("logger", name).Logger()
}

func (f *formatter) Write(p []byte) (int, error) {
	var ev struct {
		Level   string `json:"level"`
		Logger  string `json:"logger"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(p, &ev); err != nil {
		return f.out.Write(p)
	}
	name := ev.Logger
	if name == "" {
		name = "root"
	}
	lvl := pyLevel[ev.Level]
	if lvl == "" {
		lvl = strings.ToUpper(ev.Level)
	}
	line := "[" + Timestamp(f.clock()) + "] " + f.host + "/" + lvl + "/" + name + ": " + ev.Message + "\n"
	if _, err := io.WriteString(f.out, line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Timestamp formats t as Python logging's asctime: "2026-11-27 06:36:20,239".
func Timestamp(t time.Time) string {
	return t.Format("2006-01-02 15:04:05") + "," + t.Format(".000")[1:]
}
