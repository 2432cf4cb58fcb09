package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
	"github.com/aruntime/arcert/fixtures/artifacts/seeding"
	devconfig "github.com/aruntime/arcert/fixtures/config"
	standin "github.com/aruntime/arcert/fixtures/provider"
	"github.com/aruntime/arcert/fixtures/toolserver"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/runtime"
	"github.com/aruntime/arcert/reference/telemetry"
)

// flags shared by every role.
type flags struct {
	config    string
	logLevel  string
	logFormat string
	http      string
	grpc      string
	listen    string
	id        string
	device    string
	pprof     string
	// await and awaitTimeout: parts that must serve before this role starts (--await).
	await        []string
	awaitTimeout time.Duration
	// The router's JetStream addresses, overriding durable.nats_url, queue_nats_url and
	// evidence_nats_url: a deployment's routers may reach the cluster by another route (a
	// network of their own) than the other roles sharing the configuration file.
	natsURL, queueNATSURL, evidenceNATSURL string
}

func rootCommand() *cobra.Command {
	f := &flags{}
	root := &cobra.Command{
		Use:           "aruntime",
		Short:         "The arcert reference inference runtime",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&f.config, "config", "", "runtime configuration (YAML); default: the embedded fixtures/config/dev.yaml")
	root.PersistentFlags().StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	root.PersistentFlags().StringVar(&f.logFormat, "log-format", "text", "text or json")
	root.PersistentFlags().StringVar(&f.pprof, "pprof-listen", "", "serve Go's pprof profiles on this loopback address (e.g. 127.0.0.1:6060); off by default")
	root.PersistentFlags().StringVar(&f.device, "device", "", "override every worker's device.backend: sim, nvml (NVML or fail) or auto (NVML where it loads, else sim)")

	// Each command binds --data to its own variable: pflag writes a flag's default into its
	// variable when the flag is defined, so one variable shared by up, router and evidence took
	// the last command's empty default and `aruntime up` ran without JetStream.
	var upData, routerData, evidenceData string
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the whole runtime in one process: every worker of the configuration and the router",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, f, func(cfg *config.Config) runtime.Options {
				return runtime.Options{Router: true, Workers: workerIDs(cfg), DataDir: upData, Cache: cfg.Cache.Listen != ""}
			})
		},
	}
	up.Flags().StringVar(&f.http, "http", "", "override router.http_listen")
	up.Flags().StringVar(&f.grpc, "grpc", "", "override router.grpc_listen")
	up.Flags().StringVar(&upData, "data", "aruntime-data", "directory of the embedded JetStream store (batch queue and other durable state); a restart on the same directory resumes it")

	routerCmd := &cobra.Command{
		Use:   "router",
		Short: "Start only the router; it dials the workers at their configured addresses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, f, func(*config.Config) runtime.Options { return runtime.Options{Router: true, DataDir: routerData} })
		},
	}
	routerCmd.Flags().StringVar(&f.http, "http", "", "override router.http_listen")
	routerCmd.Flags().StringVar(&f.grpc, "grpc", "", "override router.grpc_listen")
	routerCmd.Flags().StringVar(&f.natsURL, "nats-url", "", "override durable.nats_url")
	routerCmd.Flags().StringVar(&f.queueNATSURL, "queue-nats-url", "", "override durable.queue_nats_url")
	routerCmd.Flags().StringVar(&f.evidenceNATSURL, "evidence-nats-url", "", "override durable.evidence_nats_url")
	routerCmd.Flags().StringVar(&routerData, "data", "", "embed JetStream with its store here; empty uses durable.nats_url from the configuration, if any")

	workerCmd := &cobra.Command{
		Use:   "worker",
		Short: "Start one worker of the configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, f, func(*config.Config) runtime.Options { return runtime.Options{Workers: []string{f.id}} })
		},
	}
	workerCmd.Flags().StringVar(&f.id, "id", "", "which worker of the configuration to run (required)")
	workerCmd.Flags().StringVar(&f.listen, "listen", "", "override the worker's listen address")
	_ = workerCmd.MarkFlagRequired("id")

	check := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a runtime configuration and print every mistake with its line",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.config = args[0]
			}
			cfg, err := loadConfig(f.config)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d tenants, %d traffic classes, %d models, %d workers)\n",
				cfg.Source, len(cfg.Tenants), len(cfg.TrafficClasses), len(cfg.Models), len(cfg.Workers))
			return nil
		},
	}
	cacheCmd := &cobra.Command{
		Use:   "cache",
		Short: "Start the shared L2 cache tier (cache.listen of the configuration)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, f, func(*config.Config) runtime.Options { return runtime.Options{Cache: true} })
		},
	}
	evidenceCmd := &cobra.Command{
		Use:   "evidence",
		Short: "Start the evidence service (the single writer of the hash chain) on the configured JetStream",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, f, func(*config.Config) runtime.Options { return runtime.Options{Evidence: true, DataDir: evidenceData} })
		},
	}
	evidenceCmd.Flags().StringVar(&evidenceData, "data", "", "embed JetStream with its store here; empty uses durable.nats_url")
	toolsCmd := &cobra.Command{
		Use:   "tools",
		Short: "Start only the tool adapter (tools.adapter_listen); routers elsewhere dial it at tools.adapter_url",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, f, func(*config.Config) runtime.Options { return runtime.Options{Tools: true} })
		},
	}
	for _, role := range []*cobra.Command{up, routerCmd, workerCmd, cacheCmd, evidenceCmd, toolsCmd} {
		role.Flags().StringArrayVar(&f.await, "await", nil, "before starting, once the configuration is valid, wait until the part at this `URL` serves (the check of aruntime health); repeatable")
		role.Flags().DurationVar(&f.awaitTimeout, "await-timeout", defaultAwaitTimeout, "give up --await after this long and exit with an error naming what did not serve")
	}
	root.AddCommand(up, routerCmd, workerCmd, cacheCmd, evidenceCmd, toolsCmd, check, artifactCommand(), providerCommand(f), registryCommand(f), healthCommand())
	return root
}

// loadConfig reads the configuration at path, or the embedded dev configuration.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Parse(devconfig.DevName, devconfig.DevYAML)
	}
	return config.Load(path)
}

func workerIDs(cfg *config.Config) []string {
	ids := make([]string, 0, len(cfg.Workers))
	for _, w := range cfg.Workers {
		ids = append(ids, w.ID)
	}
	return ids
}

// newLogger builds the structured logger every part logs through.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}

// stopGrace is how long shutdown may take beyond the configured drain timeout.
const stopGrace = 10 * time.Second

// run starts the roles chosen by roles, prints the topology, and runs until SIGINT or SIGTERM,
// then drains and stops.
func run(cmd *cobra.Command, f *flags, roles func(*config.Config) runtime.Options) error {
	log, err := newLogger(cmd.ErrOrStderr(), f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	applyOverrides(cfg, f)
	// A configuration mistake is reported at once; only then does the role wait for its parts.
	if err := awaitParts(cmd.Context(), cmd.ErrOrStderr(), f.await, f.awaitTimeout); err != nil {
		return err
	}
	opts := roles(cfg)
	opts.Logger = log
	if cfg.Artifacts.SeedFixtures {
		opts.SeedArtifacts, opts.ArtifactKey = seeding.Seeder(cfg.Artifacts.RepoPrefix), modelfixtures.PublicKey()
	}
	if opts.Router {
		opts.StartProvider = standin.ForConfig
	}
	if opts.Router || opts.Tools {
		opts.StartToolServer = toolserver.ForConfig
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdownTracing, err := telemetry.Setup(ctx, "aruntime-"+cmd.Name())
	if err != nil {
		return err
	}
	defer func() {
		// Flush the spans still buffered, within the same grace as the rest of shutdown.
		fctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		if err := shutdownTracing(fctx); err != nil {
			log.Warn("spans not exported at shutdown", "err", err)
		}
	}()
	if telemetry.Exporting() {
		log.Info("exporting traces over OTLP", "endpoint", os.Getenv(telemetry.EnvEndpoint)+os.Getenv(telemetry.EnvTracesEndpoint))
	}
	if _, err := startPprof(ctx, f.pprof, log); err != nil {
		return err
	}
	rt, err := runtime.Start(ctx, cfg, opts)
	if err != nil {
		return err
	}
	topo, _ := json.MarshalIndent(rt.Topology(), "", "  ")
	fmt.Fprintf(cmd.OutOrStdout(), "aruntime %s running from %s\n%s\n", cfg.Runtime.Version, cfg.Source, topo)
	select {
	case <-ctx.Done():
		log.Info("shutting down: draining in-flight work", "drain_timeout", cfg.Router.DrainTimeout)
	case <-rt.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Router.DrainTimeout+stopGrace)
	defer cancel()
	return rt.Shutdown(sctx)
}

// applyOverrides applies the listen-address and JetStream-address flags to cfg.
func applyOverrides(cfg *config.Config, f *flags) {
	if f.natsURL != "" {
		cfg.Durable.NATSURL = f.natsURL
	}
	if f.queueNATSURL != "" {
		cfg.Durable.QueueURL = f.queueNATSURL
	}
	if f.evidenceNATSURL != "" {
		cfg.Durable.EvidenceURL = f.evidenceNATSURL
	}
	if f.http != "" {
		cfg.Router.HTTPListen = f.http
	}
	if f.grpc != "" {
		cfg.Router.GRPCListen = f.grpc
	}
	if f.device != "" {
		for i := range cfg.Workers {
			cfg.Workers[i].Device.Backend = f.device
		}
	}
	if f.listen != "" {
		for i := range cfg.Workers {
			if cfg.Workers[i].ID == f.id {
				cfg.Workers[i].Listen = strings.TrimSpace(f.listen)
			}
		}
	}
}
