// Command predictlab is targets, loadgen and lab in one binary, for the container image:
// as three binaries each carried its own copy of the Go runtime, net/http, crypto, the
// logger and the flag parser; as one they share them.
//
// It runs the program its name says when it is called through a link named targets,
// loadgen or lab (the image's /usr/local/bin/targets, loadgen and lab are symbolic links
// to /usr/local/bin/predictlab), or, called as predictlab, the program its first argument
// names:
//
//	targets all --bind 0.0.0.0
//	predictlab lab run --profile smoke
//
// Either way the program sees the command line its own binary would (make build's
// bin/targets, bin/loadgen, bin/lab): the same help, messages, exit codes and --version
// line. Any other name or first argument prints one line of usage and exits 2.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"predictlab/internal/cli"
	labcmd "predictlab/lab/command"
	loadgencmd "predictlab/loadgen/command"
	targetscmd "predictlab/targets/command"
)

// program is one of the programs the binary holds.
type program struct {
	run cli.RunFunc
	// setUp is what the program's own main does before cli.Main, if anything.
	setUp func()
}

// programs are the programs by the name they are called by.
var programs = map[string]program{
	"targets": {run: targetscmd.Run, setUp: targetscmd.SetUpProcess},
	"loadgen": {run: loadgencmd.Run},
	"lab":     {run: labcmd.Run},
}

// self is the name under which the binary runs the program named by its first argument.
const self = "predictlab"

const usage = "usage: predictlab targets|loadgen|lab [ARGS...], or through a link named targets, loadgen or lab"

func main() {
	name, argv, ok := choose(os.Args)
	if !ok {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	p := programs[name]
	if p.setUp != nil {
		p.setUp()
	}
	// cli.Main takes the program's arguments from os.Args[1:]: give it the command
	// line the program's own binary would have had.
	os.Args = argv
	cli.Main(name, p.run)
}

// choose returns the program that the command line argv (os.Args) asks for and that
// program's own command line (its name first): the one argv[0]'s base name names or,
// when that is predictlab, the one argv[1] names. ok is false for anything else.
func choose(argv []string) (name string, progArgv []string, ok bool) {
	if len(argv) == 0 {
		return "", nil, false
	}
	name = filepath.Base(argv[0])
	if _, ok := programs[name]; ok {
		return name, argv, true
	}
	if name == self && len(argv) > 1 {
		if _, ok := programs[argv[1]]; ok {
			return argv[1], argv[1:], true
		}
	}
	return "", nil, false
}
