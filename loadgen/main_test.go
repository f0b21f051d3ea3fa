package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain gives the tests an empty home directory: loadgen reads
// ~/.locust.conf like Locust, and a developer's own file must not change
// what the end-to-end tests run. (Tests that exercise config files set
// their own HOME and working directory.)
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "loadgen-test-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Setenv("HOME", home)
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}
