// Command natsd is the real nats-server (github.com/nats-io/nats-server/v2, the version go.mod
// pins), started exactly as that module's own main does (server.ConfigureOptions, then
// server.Run), so deploy/images can build it into an image FROM scratch without a registry.
// It adds one thing the scratch image needs and nats-server lacks: `natsd healthz URL`, a
// health check for Docker and Compose, which cannot run curl or a shell in an image that holds
// a single binary.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthz" {
		if err := healthz(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "natsd healthz:", err)
			os.Exit(1)
		}
		return
	}
	const exe = "nats-server"
	fs := flag.NewFlagSet(exe, flag.ExitOnError)
	opts, err := server.ConfigureOptions(fs, os.Args[1:], server.PrintServerAndExit, fs.Usage, server.PrintTLSHelpAndDie)
	if err != nil {
		server.PrintAndDie(fmt.Sprintf("%s: %s", exe, err))
	} else if opts.CheckConfig {
		fmt.Fprintf(os.Stderr, "%s: configuration file %s is valid (%s)\n", exe, opts.ConfigFile, opts.ConfigDigest())
		os.Exit(0)
	}
	server.RedactArgs(os.Args)
	s, err := server.NewServer(opts)
	if err != nil {
		server.PrintAndDie(fmt.Sprintf("%s: %s", exe, err))
	}
	s.ConfigureLogger()
	if err := server.Run(s); err != nil {
		server.PrintAndDie(err.Error())
	}
	s.WaitForShutdown()
}
