package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// errInvalidArtifact stands for a worker's verification refusing an artifact.
var errInvalidArtifact = errors.New("artifact failed verification")

// recorder is an apply function that records its calls and refuses the digests in bad.
type recorder struct {
	mu    sync.Mutex
	calls []string // model@digest
	bad   map[string]bool
}

func (r *recorder) apply(_ context.Context, model, digest string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, model+"@"+digest)
	if r.bad[digest] {
		return errInvalidArtifact
	}
	return nil
}

func (r *recorder) setBad(digest string, bad bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bad == nil {
		r.bad = map[string]bool{}
	}
	r.bad[digest] = bad
}

func (r *recorder) count(call string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c == call {
			n++
		}
	}
	return n
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// runApplier runs a until the test ends and waits for Run to return in cleanup, before the
// environment's connection closes.
func runApplier(t *testing.T, a *Applier) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	select {
	case <-a.Ready():
	case err := <-done:
		t.Fatalf("Run returned before it was ready: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("applier never became ready")
	}
}

func appliedIs(a *Applier, model, digest string) func() bool {
	return func() bool { return a.Applied()[model] == digest }
}

func model(name string) ModelDoc { return ModelDoc{ArtifactDigest: digestOf(name), Repo: "reg/m"} }

func TestApplierAppliesOnChange(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e.store, e, BucketModels, "m", model("a"))
	var rec recorder
	a := NewApplier(e.store, "w1", rec.apply, nil)
	runApplier(t, a)
	if got := a.Applied()["m"]; got != digestOf("a") {
		t.Fatalf("when ready Applied = %v, want m on a", a.Applied())
	}
	if err := a.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run = %v", err)
	}
	mustPut(t, e.store, e, BucketModels, "m", model("b"))
	waitFor(t, "m on b", appliedIs(a, "m", digestOf("b")))
	// A change that leaves the digest as it is applies nothing; m2 coming through after it shows
	// the change was seen.
	mustPut(t, e.store, e, BucketModels, "m", ModelDoc{ArtifactDigest: digestOf("b"), Repo: "elsewhere/m"})
	mustPut(t, e.store, e, BucketModels, "m2", model("c"))
	waitFor(t, "m2 on c", appliedIs(a, "m2", digestOf("c")))
	want := []string{"m@" + digestOf("a"), "m@" + digestOf("b"), "m2@" + digestOf("c")}
	if got := rec.all(); !slices.Equal(got, want) {
		t.Fatalf("apply calls %v, want %v", got, want)
	}
}

// TestApplierCanaryRolloutAndRollback: workers split by the rollout's weight, all move at 100,
// and rolling the rollout back to its earlier revision brings the split back.
func TestApplierCanaryRolloutAndRollback(t *testing.T) {
	e := newEnv(t)
	old, next := digestOf("old"), digestOf("new")
	mustPut(t, e.store, e, BucketModels, "m", model("old"))
	var appliers []*Applier
	for i := range 16 {
		var rec recorder
		a := NewApplier(e.store, fmt.Sprintf("w%d", i), rec.apply, nil)
		runApplier(t, a)
		appliers = append(appliers, a)
	}
	converged := func(r *RolloutDoc) func() bool {
		return func() bool {
			for i, a := range appliers {
				if a.Applied()["m"] != DesiredDigest("m", model("old"), r, fmt.Sprintf("w%d", i)) {
					return false
				}
			}
			return true
		}
	}
	half := RolloutDoc{FromDigest: old, ToDigest: next, Weight: 50, Version: "v2"}
	halfRev := mustPut(t, e.store, e, BucketRollout, "m", half)
	waitFor(t, "weight 50", converged(&half))
	on := map[string]int{}
	for _, a := range appliers {
		on[a.Applied()["m"]]++
	}
	if on[old] == 0 || on[next] == 0 {
		t.Fatalf("weight 50 left %d workers on old and %d on new; want some on each", on[old], on[next])
	}
	all := half
	all.Weight = 100
	mustPut(t, e.store, e, BucketRollout, "m", all)
	waitFor(t, "weight 100", converged(&all))
	if _, err := e.store.Rollback(e.ctx(), BucketRollout, "m", halfRev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rolled back to weight 50", converged(&half))
}

// TestApplierStartsMidRollout: a worker that starts during a rollout goes straight to its digest.
func TestApplierStartsMidRollout(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e.store, e, BucketModels, "m", model("old"))
	mustPut(t, e.store, e, BucketRollout, "m", RolloutDoc{FromDigest: digestOf("old"), ToDigest: digestOf("new"), Weight: 100, Version: "v2"})
	var rec recorder
	a := NewApplier(e.store, "w1", rec.apply, nil)
	runApplier(t, a)
	if got, want := rec.all(), []string{"m@" + digestOf("new")}; !slices.Equal(got, want) {
		t.Fatalf("apply calls %v, want only %v", got, want)
	}
}
