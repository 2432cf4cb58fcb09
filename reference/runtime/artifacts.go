package runtime

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/artifact"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/control"
	"github.com/aruntime/arcert/reference/registry"
	"github.com/aruntime/arcert/reference/worker"
)

// startRegistry runs the in-process OCI registry with its storage under the data directory and,
// when asked, seeds it; workers then pull from it unless the configuration names another.
func (rt *Runtime) startRegistry(startCtx, ctx context.Context) error {
	a := rt.cfg.Artifacts
	reg, err := registry.Start(a.RegistryListen, filepath.Join(rt.opts.DataDir, "registry"), rt.log.With("part", "registry"))
	if err != nil {
		return err
	}
	rt.topology.Registry = reg.Addr()
	if a.Registry == "" {
		rt.cfg.Artifacts.Registry = reg.Addr()
	}
	rt.goPart("registry", func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		return reg.Shutdown(sctx)
	})
	if rt.opts.SeedArtifacts != nil {
		if err := rt.opts.SeedArtifacts(startCtx, loopbackAddr(reg.Addr())); err != nil {
			return fmt.Errorf("registry: seeding: %w", err)
		}
	}
	return nil
}

// artifactSource is where workers pull from, under the configured signature policy; nil when
// there is no registry to pull from.
func (rt *Runtime) artifactSource(ctx context.Context) (worker.ArtifactSource, error) {
	a := rt.cfg.Artifacts
	if a.Registry == "" {
		return nil, nil
	}
	dial, err := rt.interpose(ctx, Link{Role: link.RoleRegistry, Name: "oci", Upstream: a.Registry})
	if err != nil {
		return nil, err
	}
	a.Registry = dial
	policy := artifact.Policy{RequireSignature: a.RequireSignature, PublicKey: rt.opts.ArtifactKey}
	if a.PublicKeyFile != "" {
		key, err := artifact.LoadPublicKey(a.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("artifacts.public_key_file: %w", err)
		}
		policy.PublicKey = key
	}
	return artifact.Source{Registry: a.Registry, RepoPrefix: a.RepoPrefix, Policy: policy, PlainHTTP: a.PlainHTTP}, nil
}

// pinsTimeout bounds a starting worker's pulls of its pinned artifacts: a registry exchange that
// never answers (a hung connection, a registry stalled mid-blob) fails the start with the pull's
// error instead of leaving a worker that neither serves nor says why.
const pinsTimeout = 30 * time.Second

// verifyPins makes a worker verify its configured artifacts before it serves: a pin that does
// not verify stops the start, since the worker would have nothing it may serve.
func verifyPins(ctx context.Context, srv *worker.Server, w config.Worker, models []config.Model) error {
	ctx, cancel := context.WithTimeout(ctx, pinsTimeout)
	defer cancel()
	for _, m := range models {
		if err := srv.Apply(ctx, m.Name, m.ArtifactDigest); err != nil {
			return fmt.Errorf("worker %s: pinned artifact of %s: %w", w.ID, m.Name, err)
		}
	}
	return nil
}

// applierReadyWait bounds how long a starting worker waits to apply the control plane's pins.
const applierReadyWait = 30 * time.Second

// startApplier makes worker w follow the control plane's desired digests, and returns once the
// first pass has applied them, so a started (or replaced) worker never serves a version the
// control plane has moved away from. An artifact it refuses is recorded as an artifact_invalid
// evidence record, and the worker keeps its version.
func (rt *Runtime) startApplier(ctx context.Context, srv *worker.Server, w config.Worker, models []config.Model) error {
	ap := control.NewApplier(rt.control, w.ID, rt.applyFunc(srv, models), rt.log.With("part", "applier", "worker", w.ID))
	for _, m := range models {
		ap.Serves = append(ap.Serves, m.Name) // other models' pins are other workers' business
	}
	ap.OnRefused = func(model, digest string, err error) {
		rt.recordRefusal(w, model, digest, err)
	}
	rt.goDependent("applier "+w.ID, func() error { return ap.Run(ctx) })
	wait := time.NewTimer(applierReadyWait)
	defer wait.Stop()
	select {
	case <-ap.Ready():
		return nil
	case <-wait.C:
		return fmt.Errorf("worker %s: the control plane's pins were not applied within %s", w.ID, applierReadyWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refusalTimeout bounds writing the evidence of a refused artifact.
const refusalTimeout = 5 * time.Second

// recordRefusal writes the evidence of an artifact a worker refused.
func (rt *Runtime) recordRefusal(w config.Worker, model, digest string, err error) {
	rt.log.Warn("artifact refused", "worker", w.ID, "model", model, "digest", digest, "err", err)
	if rt.evidence == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), refusalTimeout)
	defer cancel()
	rec := discovery.Record{
		RequestID: fmt.Sprintf("artifact-%s-%d", w.ID, time.Now().UnixNano()), Time: time.Now().UTC(),
		Model: model, Deployment: rt.cfg.Runtime.Deployment, ArtifactDigest: digest, PolicyVersion: rt.cfg.Runtime.PolicyVersion,
		ServedBy: outcome.ServedBy{Region: w.Region, Pool: w.Pool, Worker: w.ID},
		Outcome:  outcome.Rejected, Reason: outcome.ReasonArtifactInvalid, ClientUser: err.Error(),
	}
	if _, err := rt.evidence.Append(ctx, rec); err != nil {
		rt.log.Error("evidence of a refused artifact not written", "err", err)
	}
}

// loopbackAddr reaches a listener bound to every interface through loopback, where the runtime
// speaks plain HTTP to its own registry.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}
