package containers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/aruntime/arcert/chaos/fault"
	modelfixtures "github.com/aruntime/arcert/fixtures/artifacts"
	"github.com/aruntime/arcert/fixtures/artifacts/seeding"
	"github.com/aruntime/arcert/reference/config"
)

// Timeouts of a deployment, in one place.
const (
	// StartTimeout bounds one part's start, from create to ready (pins applied, workers healthy).
	StartTimeout = 60 * time.Second
	// seedTimeout bounds pushing the fixture artifacts into the durable part's registry.
	seedTimeout = 30 * time.Second
	// stopTimeout is the grace a stopped part gets before SIGKILL; Close uses none.
	stopTimeout = 5 * time.Second
)

// deploymentLabel marks every container and the network of a deployment with its id, so that
// leftovers of a crashed harness can be found (`docker ps -a --filter label=dev.arcert.deployment`).
const deploymentLabel = "dev.arcert.deployment"

// Options shape a deployment.
type Options struct {
	// Log receives one line per stage; nil discards them.
	Log io.Writer
}

// Deployment is a running containerized reference runtime. Close removes it.
type Deployment struct {
	id     string
	log    io.Writer
	cfg    *config.Config
	docker *testcontainers.DockerClient
	net    *testcontainers.DockerNetwork
	engine *fault.Engine
	// hostHTTP and hostGRPC are the loopback ports the router is published on, chosen at deploy
	// time and kept across restarts so that a target's endpoints stay right.
	hostHTTP, hostGRPC int

	mu    sync.Mutex
	parts []*part // in start order
}

// part is one running container of the deployment.
type part struct {
	spec
	c *testcontainers.DockerContainer
}

// Deploy starts the containerized reference runtime and returns once the router serves with
// every worker healthy. The images must exist (deploy/images.Build). On failure everything made
// so far is removed, and the error ends with the last lines each container logged.
func Deploy(ctx context.Context, o Options) (d *Deployment, err error) {
	prepareEnv()
	if o.Log == nil {
		o.Log = io.Discard
	}
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	links, err := targetLinks()
	if err != nil {
		return nil, err
	}
	docker, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	d = &Deployment{id: newID(), log: o.Log, cfg: cfg, docker: docker}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w: %w%s", ErrDeploy, err, d.tails(context.WithoutCancel(ctx)))
			_ = d.Close(context.WithoutCancel(ctx))
			d = nil
		}
	}()
	if d.hostHTTP, d.hostGRPC, err = freePorts(); err != nil {
		return d, err
	}
	d.net, err = network.New(ctx, network.WithLabels(map[string]string{deploymentLabel: d.id}))
	if err != nil {
		return d, fmt.Errorf("network: %w", err)
	}
	stages := specs(cfg)
	// The proxy server and JetStream come first, side by side; then the proxies, before any part
	// that dials them starts.
	start := time.Now()
	var proxyErr error
	var wg sync.WaitGroup
	wg.Go(func() { proxyErr = d.startToxiproxy(ctx, links) })
	stageErr := d.startStage(ctx, stages[0])
	wg.Wait()
	if err := errors.Join(proxyErr, stageErr); err != nil {
		return d, err
	}
	if err := d.seed(ctx); err != nil {
		return d, err
	}
	fmt.Fprintf(d.log, "containers: toxiproxy with %d links, durable part up (%s)\n", len(links), time.Since(start).Round(time.Millisecond))
	for _, stage := range stages[1:] {
		start := time.Now()
		if err := d.startStage(ctx, stage); err != nil {
			return d, err
		}
		fmt.Fprintf(d.log, "containers: %s up (%s)\n", names(stage), time.Since(start).Round(time.Millisecond))
	}
	return d, d.waitRouter(ctx, len(cfg.Workers))
}

// startStage starts the parts of one stage side by side.
func (d *Deployment) startStage(ctx context.Context, stage []spec) error {
	errs := make([]error, len(stage))
	var wg sync.WaitGroup
	for i, s := range stage {
		wg.Go(func() { errs[i] = d.startPart(ctx, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// seed pushes the fixture artifacts into the durable part's registry through its published port:
// the runtime seeds only a registry it reaches on loopback, which inside its container the
// registry (listening on every interface) is not.
func (d *Deployment) seed(ctx context.Context) error {
	addr, err := d.hostAddr(ctx, "durable", durableOCI)
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, seedTimeout)
	defer cancel()
	if _, err := seeding.Seed(sctx, addr, d.cfg.Artifacts.RepoPrefix+modelfixtures.Model); err != nil {
		return fmt.Errorf("seeding the registry at %s: %w", addr, err)
	}
	return nil
}

// Engine is the fault engine on the deployment's toxiproxy, with one link per dependency.
func (d *Deployment) Engine() *fault.Engine { return d.engine }

// HTTPURL is the router's OpenAI-compatible endpoint on the host. It does not change when the
// router restarts: its host port is fixed at deploy time.
func (d *Deployment) HTTPURL() string { return fmt.Sprintf("http://127.0.0.1:%d", d.hostHTTP) }

// GRPCAddr is the router's gRPC endpoint (host:port) on the host, fixed like HTTPURL.
func (d *Deployment) GRPCAddr() string { return fmt.Sprintf("127.0.0.1:%d", d.hostGRPC) }

// NATSURL is the durable part's JetStream on the host, for reconciling the ledger against the
// queue and the evidence chain after healing. Re-read it after restarting the durable part.
func (d *Deployment) NATSURL(ctx context.Context) (string, error) {
	addr, err := d.hostAddr(ctx, "durable", durableNATS)
	if err != nil {
		return "", err
	}
	return "nats://" + addr, nil
}

// ObserveURL is where the harness reads what reached the stand-in provider (its
// /v1/provider/seen), on the host: the proof that a tenant's data never left. Re-read it after
// restarting the provider part.
func (d *Deployment) ObserveURL(ctx context.Context) (string, error) {
	addr, err := d.hostAddr(ctx, "provider", providerAPI)
	if err != nil {
		return "", err
	}
	return "http://" + addr + "/v1/provider/seen", nil
}

// Config is the configuration the parts run (the router's and the workers' view).
func (d *Deployment) Config() *config.Config { return d.cfg }

// Close removes every container and the network, even after a failed Deploy or a part left
// paused or disconnected. It returns every removal that failed.
func (d *Deployment) Close(ctx context.Context) error {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	parts := append([]*part(nil), d.parts...)
	d.parts = nil
	d.mu.Unlock()
	errs := make([]error, len(parts)+2)
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Go(func() {
			// A paused container cannot be stopped; unpausing one that is not paused fails harmlessly.
			_, _ = d.docker.ContainerUnpause(ctx, p.c.GetContainerID(), unpauseOptions)
			var none time.Duration
			if err := p.c.Terminate(ctx, testcontainers.StopTimeout(none)); err != nil {
				errs[i] = fmt.Errorf("removing %s: %w", p.name, err)
			}
		})
	}
	wg.Wait()
	if d.net != nil {
		errs[len(parts)] = d.net.Remove(ctx)
	}
	errs[len(parts)+1] = d.docker.Close()
	return errors.Join(errs...)
}

// newID names a deployment: its containers are arcert-ID-PART, its network is labelled with it.
func newID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// names lists the names of a stage's parts, for progress lines.
func names(stage []spec) string {
	s := ""
	for i, p := range stage {
		if i > 0 {
			s += ", "
		}
		s += p.name
	}
	return s
}
