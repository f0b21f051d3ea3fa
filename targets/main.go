// Command targets is part of predictlab. It is not yet implemented.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "targets: not yet implemented")
	os.Exit(2)
}
