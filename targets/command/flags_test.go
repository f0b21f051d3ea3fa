package command

import (
	"testing"
	"time"

	"github.com/spf13/pflag"

	"predictlab/internal/targetsapi"
)

// The contract's command line is the one targets parses: Args of any settings,
// parsed by targets' own flags, gives the same settings back.
func TestServiceArgsRoundTrip(t *testing.T) {
	t.Parallel()
	custom := targetsapi.Defaults(targetsapi.Scoring, targetsapi.Sync)
	custom.Style, custom.Framework, custom.Addr = targetsapi.EventLoop, targetsapi.Fiber, "127.0.0.1:1"
	custom.Workers, custom.Backlog, custom.Loops, custom.CPUCost = 3, 0, 2, 5*time.Millisecond
	custom.ModelURL, custom.FeatureStore, custom.Fanout = "http://127.0.0.1:2", "redis://:pw@127.0.0.1:3", 4
	custom.ModelTimeout, custom.StoreTimeout = 2*time.Second, 300*time.Millisecond
	model := targetsapi.Defaults(targetsapi.Model, targetsapi.Async)
	model.ModelDelay, model.Seed = targetsapi.DelayRange{Min: time.Millisecond, Max: 3 * time.Millisecond}, 7
	for _, want := range []targetsapi.Service{
		targetsapi.Defaults(targetsapi.Model, targetsapi.Sync),
		targetsapi.Defaults(targetsapi.Scoring, targetsapi.Async),
		custom, model,
	} {
		args := want.Args()
		if args[0] != string(want.Role) {
			t.Fatalf("Args()[0] = %q, want the role %q", args[0], want.Role)
		}
		fs := pflag.NewFlagSet(args[0], pflag.ContinueOnError)
		var cf serviceFlags
		cf.register(fs, want.Role)
		if err := fs.Parse(args[1:]); err != nil {
			t.Fatalf("targets cannot parse %q: %v", args, err)
		}
		if cf.s != want {
			t.Errorf("%q parsed to\n%+v\nwant\n%+v", args, cf.s, want)
		}
	}
}
