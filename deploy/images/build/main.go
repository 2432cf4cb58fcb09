// Command build builds the container images of the containerized reference runtime (package
// images). `make images` runs it; `make test` runs it with --optional first, so the tests that
// deploy containers find the images built, and a machine without Docker (outside CI, where Docker
// is part of the machine) still runs every other test.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/aruntime/arcert/deploy/images"
)

func main() {
	optional := flag.Bool("optional", false, "succeed without a Docker engine, unless CI is set")
	flag.Parse()
	tclog.SetDefault(tclog.NewNoopLogger())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := images.Build(ctx, images.Options{Log: os.Stdout})
	stop()
	switch {
	case err == nil:
	case *optional && errors.Is(err, images.ErrNoDocker) && os.Getenv("CI") == "":
		fmt.Printf("images: skipped (%v); the container tests will skip too\n", err)
	default:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
