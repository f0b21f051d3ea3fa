package command

import (
	"fmt"
	"io"
	"path/filepath"

	"predictlab/lab/internal/report"
)

// runReport is `lab report DIR`: it rebuilds a finished run's report from
// its folder alone.
func runReport(args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, "Usage: lab report DIR\n\nRewrites DIR/index.html, DIR/summary.md and DIR's charts from DIR/results.json\nand the experiments' CSV files, as the run that made DIR wrote them.")
		return nil
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "lab report: want one argument, the run's folder (see lab report --help)")
		return errUsage
	}
	if err := report.Rebuild(args[0]); err != nil {
		return err
	}
	abs, _ := filepath.Abs(filepath.Join(args[0], "index.html"))
	fmt.Fprintf(stdout, "lab: report: %s (also summary.md)\n", abs)
	return nil
}
