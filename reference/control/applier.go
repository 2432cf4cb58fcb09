package control

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrAlreadyRunning means Run was called on an Applier that has already run.
var ErrAlreadyRunning = errors.New("control: applier already running")

// defaultRetryInterval is how long a refused apply waits before it is tried again. A refusal may
// be an invalid artifact (retrying changes nothing, but costs only a pull and a check) or a
// registry that is briefly away; retrying is what lets a worker converge after the registry comes
// back without an operator touching the rollout again.
const defaultRetryInterval = 10 * time.Second

// ApplyFunc makes a worker serve digest for model. An error means the worker did not switch and
// keeps serving what it served before.
type ApplyFunc func(ctx context.Context, model, digest string) error

// Applier is the worker side of the control plane: it watches the model repository and rollout
// state, works out which digest this worker should serve for each model, applies it when that
// changes, and keeps what it applied for the worker to report.
type Applier struct {
	// OnRefused, when set before Run, is called on Run's goroutine the first time apply refuses a
	// digest for a model (not on retries of the same digest), so each refusal leaves one record.
	OnRefused func(model, digest string, err error)
	// RetryInterval, when set before Run, replaces defaultRetryInterval.
	RetryInterval time.Duration
	// Serves, when set before Run, limits the applier to these models: the repository holds every
	// model's document, and a worker that does not serve a model can only refuse its pins, which
	// would leave a false artifact_invalid record and a retry forever. Empty means every model.
	Serves []string

	store  *Store
	worker string
	apply  ApplyFunc
	log    *slog.Logger

	running atomic.Bool
	ready   chan struct{}

	mu      sync.Mutex
	applied map[string]string // model -> digest applied; written only by Run
	errs    map[string]error  // model -> last refusal, while the model is off its desired digest

	// Run's own state.
	models   map[string]ModelDoc
	rollouts map[string]RolloutDoc
	refused  map[string]string // model -> digest last reported to OnRefused, pending a retry
}

// NewApplier returns an Applier for the worker workerID that calls apply to switch a model's
// digest. log may be nil.
func NewApplier(store *Store, workerID string, apply ApplyFunc, log *slog.Logger) *Applier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{
		store: store, worker: workerID, apply: apply, log: log.With("worker", workerID),
		ready:   make(chan struct{}),
		applied: map[string]string{}, errs: map[string]error{},
		models: map[string]ModelDoc{}, rollouts: map[string]RolloutDoc{}, refused: map[string]string{},
	}
}

// Applied returns, per model, the digest this worker has applied.
func (a *Applier) Applied() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.applied)
}

// Errors returns, per model that is not on its desired digest because apply refused it, the
// refusal. A model leaves the map once it reaches its desired digest.
func (a *Applier) Errors() map[string]error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.errs)
}

// Ready is closed once the documents that existed when Run began have been applied (or refused),
// so a worker can wait for it before it reports healthy on the versions it was meant to run.
func (a *Applier) Ready() <-chan struct{} { return a.ready }

// Run watches and applies until ctx ends, then returns nil. It runs once per Applier. Apply calls
// happen one at a time on Run's goroutine, so a slow apply delays the next change, never races it.
func (a *Applier) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	models, err := a.store.Watch(ctx, BucketModels)
	if err != nil {
		return err
	}
	rollouts, err := a.store.Watch(ctx, BucketRollout)
	if err != nil {
		cancel()
		for range models { // the watch is gone once its channel closes
		}
		return err
	}
	// Whichever way Run returns, both watches have ended by then.
	defer func() {
		cancel()
		for range models {
		}
		for range rollouts {
		}
	}()
	mc, rc := models, rollouts
	interval := a.RetryInterval
	if interval <= 0 {
		interval = defaultRetryInterval
	}
	retry := time.NewTimer(interval)
	retry.Stop()
	defer retry.Stop()
	armed := false
	synced := map[string]bool{}
	for {
		var c Change
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case c, ok = <-mc:
			if !ok {
				mc = nil // closed only as ctx ends; never select a closed channel again
			}
		case c, ok = <-rc:
			if !ok {
				rc = nil
			}
		case <-retry.C:
			armed = false
			for m := range a.refused {
				a.attempt(ctx, m)
			}
		}
		if ok {
			a.observe(ctx, c, synced)
		}
		if !armed && len(a.refused) > 0 {
			retry.Reset(interval)
			armed = true
		}
	}
}

// observe records one change and applies what it changes for this worker. Until both buckets
// have synced nothing is applied, so a worker that starts mid-rollout goes straight to its
// digest instead of passing through the model's.
func (a *Applier) observe(ctx context.Context, c Change, synced map[string]bool) {
	wasReady := synced[BucketModels] && synced[BucketRollout]
	switch {
	case c.Op == OpSynced:
		synced[c.Bucket] = true
		if !wasReady && synced[BucketModels] && synced[BucketRollout] {
			for m := range a.models {
				a.attempt(ctx, m)
			}
			close(a.ready)
		}
		return
	case !a.serves(c.Key):
		return // another worker's model: neither applied nor refused here
	case c.Bucket == BucketModels && c.Op == OpPut:
		doc, err := Decode(BucketModels, c.Value)
		if err != nil {
			a.log.Warn("control: ignoring a model document", "model", c.Key, "revision", c.Revision, "error", err)
			return
		}
		a.models[c.Key] = doc.(ModelDoc)
	case c.Bucket == BucketModels:
		// A model removed from the repository is not unloaded here: unloading is a deployment
		// decision. The worker keeps reporting what it serves.
		delete(a.models, c.Key)
		delete(a.refused, c.Key)
	case c.Op == OpPut:
		doc, err := Decode(BucketRollout, c.Value)
		if err != nil {
			a.log.Warn("control: ignoring a rollout document", "model", c.Key, "revision", c.Revision, "error", err)
			return
		}
		a.rollouts[c.Key] = doc.(RolloutDoc)
	default:
		delete(a.rollouts, c.Key) // no rollout: the model document alone decides
	}
	if wasReady {
		a.attempt(ctx, c.Key)
	}
}

// serves reports whether this applier applies model's documents.
func (a *Applier) serves(model string) bool {
	return len(a.Serves) == 0 || slices.Contains(a.Serves, model)
}

// attempt brings model to its desired digest for this worker, if it is not there yet.
func (a *Applier) attempt(ctx context.Context, model string) {
	doc, ok := a.models[model]
	if !ok {
		return
	}
	var r *RolloutDoc
	if ro, ok := a.rollouts[model]; ok {
		r = &ro
	}
	want := DesiredDigest(model, doc, r, a.worker)
	if want == a.applied[model] { // only Run writes applied, so Run may read it unlocked
		a.settle(model, want)
		return
	}
	err := a.apply(ctx, model, want)
	if ctx.Err() != nil {
		return // shutting down: the result says nothing about the artifact
	}
	if err != nil {
		a.mu.Lock()
		a.errs[model] = err
		a.mu.Unlock()
		a.log.Warn("control: apply refused", "model", model, "digest", want, "kept", a.applied[model], "error", err)
		if a.refused[model] != want {
			a.refused[model] = want
			if a.OnRefused != nil {
				a.OnRefused(model, want, err)
			}
		}
		return
	}
	a.log.Info("control: applied", "model", model, "digest", want)
	a.settle(model, want)
}

// settle records that model is on its desired digest.
func (a *Applier) settle(model, digest string) {
	a.mu.Lock()
	a.applied[model] = digest
	delete(a.errs, model)
	a.mu.Unlock()
	delete(a.refused, model)
}
