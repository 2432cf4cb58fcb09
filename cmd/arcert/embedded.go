package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
	"github.com/aruntime/arcert/fixtures/artifacts/seeding"
	devconfig "github.com/aruntime/arcert/fixtures/config"
	"github.com/aruntime/arcert/fixtures/negative"
	standin "github.com/aruntime/arcert/fixtures/provider"
	"github.com/aruntime/arcert/fixtures/toolserver"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/runtime"
)

// embeddedStartTimeout bounds starting the embedded reference runtime.
const embeddedStartTimeout = 30 * time.Second

// startEmbedded starts the reference runtime of the dev configuration on free loopback ports, or
// the named negative control of it, and returns it with a function that stops it.
// interpose, when set, stands a fault proxy on every link the runtime dials.
func startEmbedded(ctx context.Context, variant string, interpose runtime.Interposer, log *slog.Logger) (*runtime.Runtime, func(), error) {
	// A fresh data directory per run: certification starts from the configuration's pins.
	dataDir, err := os.MkdirTemp("", "arcert-embedded-")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Parse(devconfig.DevName, devconfig.DevYAML)
	if err != nil {
		_ = os.RemoveAll(dataDir)
		return nil, nil, err
	}
	cfg.Router.HTTPListen, cfg.Router.GRPCListen = "127.0.0.1:0", "127.0.0.1:0"
	opts := runtime.Options{Router: true, Logger: log, Cache: cfg.Cache.Listen != "", DataDir: dataDir, StartProvider: standin.ForConfig, StartToolServer: toolserver.ForConfig, Interpose: interpose}
	for _, w := range cfg.Workers {
		opts.Workers = append(opts.Workers, w.ID)
	}
	if variant != "" {
		v, err := negative.Lookup(variant)
		if err != nil {
			return nil, nil, err
		}
		if v.Mutate != nil {
			v.Mutate(cfg)
		}
		if v.Defects != nil {
			v.Defects(cfg, &opts.Defects)
		}
	}
	if cfg.Artifacts.SeedFixtures {
		opts.SeedArtifacts, opts.ArtifactKey = seeding.Seeder(cfg.Artifacts.RepoPrefix), modelfixtures.PublicKey()
	}
	sctx, cancel := context.WithTimeout(ctx, embeddedStartTimeout)
	defer cancel()
	rt, err := runtime.Start(sctx, cfg, opts)
	if err != nil {
		_ = os.RemoveAll(dataDir)
		return nil, nil, fmt.Errorf("starting the embedded runtime: %w", err)
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.Router.DrainTimeout+5*time.Second)
		defer cancel()
		_ = rt.Shutdown(sctx)
		_ = os.RemoveAll(dataDir)
	}
	return rt, stop, nil
}
