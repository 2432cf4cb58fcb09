// Command aruntime is the reference runtime: `aruntime up` starts the whole runtime in one
// process; `aruntime router` and `aruntime worker` start one role each.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "aruntime:", err)
		os.Exit(1)
	}
}
