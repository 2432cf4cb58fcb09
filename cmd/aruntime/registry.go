package main

import (
	"context"
	"fmt"
	"net"
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

// registryCommand serves the OCI registry alone (artifacts.registry_listen, its storage under
// --data), so that a deployment with one container per role runs the registry in its own
// container rather than inside the evidence service's. With artifacts.seed_fixtures it pushes
// the signed fixture artifacts over loopback first, as `aruntime up` does.
func registryCommand(f *flags) *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Serve the OCI registry model artifacts are pulled from (artifacts.registry_listen)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(f.config)
			if err != nil {
				return err
			}
			if cfg.Artifacts.RegistryListen == "" {
				return fmt.Errorf("%s: artifacts.registry_listen is empty: nowhere to serve the registry", cfg.Source)
			}
			log, err := newLogger(cmd.ErrOrStderr(), f.logLevel, f.logFormat)
			if err != nil {
				return err
			}
			reg, err := registry.Start(cfg.Artifacts.RegistryListen, filepath.Join(data, "registry"), log.With("part", "registry"))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if cfg.Artifacts.SeedFixtures {
				sctx, cancel := context.WithTimeout(ctx, seedTimeout)
				err := seeding.Seeder(cfg.Artifacts.RepoPrefix)(sctx, loopback(reg.Addr()))
				cancel()
				if err != nil {
					_ = reg.Shutdown(context.Background())
					return fmt.Errorf("registry: seeding the fixtures: %w", err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "aruntime registry listening on %s (storage %s)\n", reg.Addr(), filepath.Join(data, "registry"))
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), stopGrace)
			defer cancel()
			return reg.Shutdown(sctx)
		},
	}
	cmd.Flags().StringVar(&data, "data", "aruntime-data", "directory of the registry's storage (under registry/); a restart on it serves the same content")
	return cmd
}

// loopback reaches a listener bound to every interface through loopback: the seeder speaks
// plain HTTP only to a registry on loopback.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}
