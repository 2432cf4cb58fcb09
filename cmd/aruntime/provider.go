package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	standin "github.com/aruntime/arcert/fixtures/provider"
	"github.com/aruntime/arcert/reference/config"
)

// providerCommand runs fixtures/provider's stand-in hosted provider alone, so that a deployment
// with one container per role can give the provider its own container and put a proxy in front
// of it, as it stands in front of a real provider. It is hidden: the stand-in is a test fixture
// that records whose data reached it, not a role of a real runtime.
func providerCommand(f *flags) *cobra.Command {
	var name, listen string
	cmd := &cobra.Command{
		Use:    "provider",
		Short:  "Serve the stand-in hosted provider of the configuration (a test fixture)",
		Args:   cobra.NoArgs,
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(f.config)
			if err != nil {
				return err
			}
			p, err := pickProvider(cfg, name)
			if err != nil {
				return err
			}
			sp, err := standin.Start(listen, p.Key)
			if err != nil {
				return err
			}
			// The wait strategy of chaos/containers looks for this line.
			fmt.Fprintf(cmd.OutOrStdout(), "aruntime provider %s (stand-in) listening on %s\n", p.Name, sp.Addr())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return sp.Close()
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "which provider of the configuration to stand in for; default: the first")
	cmd.Flags().StringVar(&listen, "listen", "0.0.0.0:8090", "where to serve the provider's OpenAI-compatible API")
	return cmd
}

// pickProvider returns the configured provider called name, or the first when name is empty.
func pickProvider(cfg *config.Config, name string) (config.Provider, error) {
	for _, p := range cfg.Providers {
		if name == "" || p.Name == name {
			return p, nil
		}
	}
	if name == "" {
		return config.Provider{}, fmt.Errorf("%s declares no provider to stand in for", cfg.Source)
	}
	return config.Provider{}, fmt.Errorf("%s declares no provider %q", cfg.Source, name)
}
