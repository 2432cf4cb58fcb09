// Command reasons prints the closed reason enum as the Markdown table README.md carries, so the
// two can be compared by a test and regenerated with `go run ./internal/tools/reasons`.
package main

import (
	"fmt"

	"github.com/aruntime/arcert/api/outcome"
)

func main() {
	fmt.Print(outcome.ReasonTable())
}
