// Command loadgen is part of predictlab. It is not yet implemented.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "loadgen: not yet implemented")
	os.Exit(2)
}
