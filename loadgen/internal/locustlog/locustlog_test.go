package locustlog

import (
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestLogger(t *testing.T) {
	t.Parallel()
	var sb strings.Builder
	clock := func() time.Time { return time.Date(2026, 11, 27, 6, 36, 20, 241e6, time.Local) }
	l := New(NewWriter(&sb), "vm", zerolog.InfoLevel, clock)
	rl := Named(l, "locust.runners")
	rl.Info().Msgf("Ramping to %d users at a rate of %.2f per second", 150, 150.0)
	l.Warn().Msg("CPU usage above 90%!")
	l.Debug().Msg("hidden")
	want := "[2026-11-27 06:36:20,241] vm/INFO/locust.runners: Ramping to 150 users at a rate of 150.00 per second\n" +
		"[2026-11-27 06:36:20,241] vm/WARNING/root: CPU usage above 90%!\n"
	if sb.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", sb.String(), want)
	}
}
