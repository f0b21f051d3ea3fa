// Command lab is part of predictlab. It is not yet implemented.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "lab: not yet implemented")
	os.Exit(2)
}
