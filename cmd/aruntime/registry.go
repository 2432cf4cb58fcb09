package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/fixtures/artifacts/seeding"
	"github.com/aruntime/arcert/reference/registry"
)

// seedTimeout bounds pushing the fixture artifacts at start.
const seedTimeout = 60 * time.Second

// registryCommand serves the OCI registry alone (--listen or artifacts.registry_listen, its storage under
// --data), so that a deployment with one container per role runs the registry in its own
// container rather than inside the evidence service's. With artifacts.seed_fixtures it pushes
// the signed fixture artifacts first, as `aruntime up` does, but before it listens where others
// reach it: a registry that answers there holds every fixture, so its health check (GET /v2/)
// means ready and no worker ever pulls from it half seeded.
func registryCommand(f *flags) *cobra.Command {
	var data, listen string
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Serve the OCI registry model artifacts are pulled from (artifacts.registry_listen)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(f.config)
			if err != nil {
				return err
			}
			if listen == "" {
				listen = cfg.Artifacts.RegistryListen
			}
			if listen == "" {
				return fmt.Errorf("%s: artifacts.registry_listen is empty and there is no --listen: nowhere to serve the registry", cfg.Source)
			}
			log, err := newLogger(cmd.ErrOrStderr(), f.logLevel, f.logFormat)
			if err != nil {
				return err
			}
			store := filepath.Join(data, "registry")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if cfg.Artifacts.SeedFixtures {
				if err := seedStore(ctx, store, cfg.Artifacts.RepoPrefix, log); err != nil {
					return err
				}
			}
			reg, err := registry.Start(listen, store, log.With("part", "registry"))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "aruntime registry listening on %s (storage %s)\n", reg.Addr(), store)
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), stopGrace)
			defer cancel()
			return reg.Shutdown(sctx)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "where to serve; default: artifacts.registry_listen (which would also start a registry in every role run with --data)")
	cmd.Flags().StringVar(&data, "data", "aruntime-data", "directory of the registry's storage (under registry/); a restart on it serves the same content")
	return cmd
}

// seedStore pushes the fixtures into the registry storage at store through a registry of its own
// on a free loopback port (the seeder speaks plain HTTP only to loopback), then stops that one.
func seedStore(ctx context.Context, store, repoPrefix string, log *slog.Logger) error {
	seedReg, err := registry.Start("127.0.0.1:0", store, log.With("part", "registry-seeding"))
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, seedTimeout)
	err = seeding.Seeder(repoPrefix)(sctx, seedReg.Addr())
	cancel()
	shutCtx, cancelShut := context.WithTimeout(context.Background(), stopGrace)
	defer cancelShut()
	if serr := seedReg.Shutdown(shutCtx); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("registry: seeding the fixtures: %w", err)
	}
	return nil
}
