package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/reference/batch"
	"github.com/aruntime/arcert/reference/control"
	"github.com/aruntime/arcert/reference/evidence"
	"github.com/aruntime/arcert/reference/jetstream"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// durable is the JetStream engine this process uses: embedded (with its store under the data
// directory) or an external cluster.
type durable struct {
	srv *jetstream.Server // nil when external
	nc  *nats.Conn
	js  natsjs.JetStream
	url string
}

// wantsDurable reports whether durable parts run: with a data directory for the embedded engine,
// or with an external NATS URL.
func (rt *Runtime) wantsDurable() bool {
	return rt.opts.DataDir != "" || rt.cfg.Durable.NATSURL != ""
}

// startDurable starts or reaches JetStream and stops it when ctx ends (after every other part,
// since the router's drain still writes to it).
func (rt *Runtime) startDurable(ctx context.Context) error {
	d := &durable{url: rt.cfg.Durable.NATSURL}
	if d.url == "" {
		store := rt.opts.DataDir + "/jetstream"
		if err := os.MkdirAll(store, 0o750); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		srv, err := jetstream.Start(rt.cfg.Durable.NATSListen, store, rt.log.With("part", "jetstream"))
		if err != nil {
			return err
		}
		d.srv, d.url = srv, srv.URL()
		rt.topology.NATS = d.url
		rt.topology.DataDir = rt.opts.DataDir
	}
	nc, js, err := jetstream.Connect(d.url, "aruntime")
	if err != nil {
		if d.srv != nil {
			d.srv.Shutdown()
		}
		return err
	}
	d.nc, d.js = nc, js
	rt.durable = d
	rt.topology.Dials["router"] = append(rt.topology.Dials["router"], d.url)
	rt.goPart("jetstream", func() error {
		<-ctx.Done()
		rt.partsDone.Wait() // everything that writes to JetStream has stopped
		nc.Close()
		if d.srv != nil {
			d.srv.Shutdown()
		}
		return nil
	})
	return nil
}

// openBatches opens the batch queue.
func (rt *Runtime) openBatches(startCtx, ctx context.Context) (*batch.Store, error) {
	d := rt.cfg.Durable
	js, err := rt.linkJetStream(startCtx, ctx, link.RoleQueue, d.QueueURL)
	if err != nil {
		return nil, err
	}
	var store *batch.Store
	err = withClusterPatience(startCtx, rt.log, "the batch queue", func(ctx context.Context) (err error) {
		store, err = batch.Open(ctx, js, batch.Options{Capacity: d.BatchCapacity, MaxRequests: d.BatchMaxRequests,
			GlobalIdempotencyKeys: rt.opts.Defects.Operations.BatchIdempotencyGlobal, Replicas: d.Replicas,
			RequeueOnResume: rt.opts.Defects.Operations.BatchRequeueOnResume})
		return err
	})
	return store, err
}

// linkJetStream returns the JetStream a dependency role (queue, evidence) of the router uses:
// its own connection when the configuration names another URL for it or a fault proxy stands on
// it, so that link can be cut alone; otherwise the shared connection. An own connection closes
// after every part that uses JetStream has stopped.
func (rt *Runtime) linkJetStream(startCtx, ctx context.Context, role link.Role, configured string) (natsjs.JetStream, error) {
	url := rt.durable.url
	if configured != "" {
		url = configured
	}
	url, err := rt.interposeURL(startCtx, role, "jetstream", url)
	if err != nil {
		return nil, err
	}
	if url == rt.durable.url {
		return rt.durable.js, nil
	}
	nc, js, err := jetstream.Connect(url, "aruntime-"+string(role))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", role, err)
	}
	rt.topology.Dials["router"] = append(rt.topology.Dials["router"], url)
	rt.goPart(string(role)+" link", func() error {
		<-ctx.Done()
		rt.partsDone.Wait()
		nc.Close()
		return nil
	})
	return js, nil
}

// runBatches runs the queue's jobs through exec until ctx ends.
func (rt *Runtime) runBatches(ctx context.Context, store *batch.Store, exec batch.Exec) {
	runner := batch.NewRunner(store, exec, rt.cfg.Durable.BatchConcurrency, rt.log.With("part", "batch"))
	if rt.opts.Defects.BatchAckFirst {
		runner.AckBeforeRun()
	}
	if rt.opts.Defects.Operations.BatchResultNamesJob {
		runner.NameResultsByJob()
	}
	if rt.opts.Defects.Operations.BatchRequeueOnResume {
		runner.TrustQueue()
	}
	rt.goDependent("batch runner", func() error { return runner.Run(ctx) })
}

// openControl opens the control plane's store and seeds each configured model's document on
// first start, so a fresh data directory begins at the configuration's pins and a restarted one
// keeps whatever operators have rolled out since.
func (rt *Runtime) openControl(ctx context.Context) (*control.Store, error) {
	var store *control.Store
	err := withClusterPatience(ctx, rt.log, "the control plane", func(ctx context.Context) (err error) {
		store, err = control.Open(ctx, rt.durable.js, rt.cfg.Durable.Replicas)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	for _, m := range rt.cfg.Models {
		if _, err := store.Get(ctx, control.BucketModels, m.Name); err == nil {
			continue
		} else if !errors.Is(err, control.ErrNotFound) {
			return nil, fmt.Errorf("control plane: %w", err)
		}
		doc := control.ModelDoc{ArtifactDigest: m.ArtifactDigest, Repo: "models/" + m.Name}
		if _, err := store.Put(ctx, control.BucketModels, m.Name, doc); err != nil {
			return nil, fmt.Errorf("control plane: seeding %s: %w", m.Name, err)
		}
	}
	// A crash between a rollout's last approval and its document leaves it applying: finish it.
	if n, err := store.FinishApplying(ctx); err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	} else if n > 0 {
		rt.log.Info("finished held rollouts a crash left applying", "rollouts", n)
	}
	return store, nil
}

// startEvidence runs the evidence service (the single writer of the chain) when asked, and gives
// the router an evidence client that spools under the data directory while JetStream is away.
func (rt *Runtime) startEvidence(startCtx, ctx context.Context) error {
	js := rt.durable.js
	if err := withClusterPatience(startCtx, rt.log, "the evidence streams", func(ctx context.Context) error {
		return evidence.EnsureStreams(ctx, js, rt.cfg.Durable.Replicas)
	}); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if rt.opts.Evidence || rt.opts.Router && rt.cfg.Durable.NATSURL == "" {
		svc, err := evidence.NewService(js, evidence.ServiceOptions{Logger: rt.log.With("part", "evidence"),
			LinkToMessageStart: rt.opts.Defects.Operations.GroupChainLinks, Replicas: rt.cfg.Durable.Replicas})
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		rt.goDependent("evidence service", func() error { return svc.Run(ctx) })
		rt.topology.Evidence = "jetstream, chained here"
	}
	if !rt.opts.Router {
		return nil
	}
	if rt.opts.DataDir == "" {
		// The spool must outlive the process and belong to it alone: a shared temporary file
		// would let one router truncate another's unsent records, and a restart could not find it.
		return fmt.Errorf("%w: a router writing durable evidence needs --data for its evidence spool", ErrConfig)
	}
	spool := filepath.Join(rt.opts.DataDir, "evidence.spool")
	cjs, err := rt.linkJetStream(startCtx, ctx, link.RoleEvidence, rt.cfg.Durable.EvidenceURL)
	if err != nil {
		return err
	}
	client, err := evidence.NewClient(cjs, evidence.ClientOptions{SpoolPath: spool, Logger: rt.log.With("part", "evidence-client"), DropUnavailable: rt.opts.Defects.LossyEvidence, Replicas: rt.cfg.Durable.Replicas})
	if err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	rt.evidence = client
	rt.goDependent("evidence replay", func() error {
		err := client.Run(ctx)
		<-rt.frontStopped // the router's last records may still spool
		_ = client.Close()
		return err
	})
	return nil
}
