package control

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// refusals records OnRefused calls.
type refusals struct {
	mu   sync.Mutex
	seen []string
	errs []error
}

func (r *refusals) record(model, digest string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, model+"@"+digest)
	r.errs = append(r.errs, err)
}

func (r *refusals) snapshot() ([]string, []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...), append([]error(nil), r.errs...)
}

// TestApplierRefusalKeepsThePreviousDigest: a refused artifact leaves the old digest applied,
// is reported once however often it is retried, and a retry that succeeds converges.
func TestApplierRefusalKeepsThePreviousDigest(t *testing.T) {
	e := newEnv(t)
	good, bad := digestOf("good"), digestOf("bad")
	mustPut(t, e.store, e, BucketModels, "m", model("good"))
	var rec recorder
	rec.setBad(bad, true)
	var refused refusals
	a := NewApplier(e.store, "w1", rec.apply, nil)
	a.OnRefused = refused.record
	a.RetryInterval = 5 * time.Millisecond // retries are what this test counts
	runApplier(t, a)

	mustPut(t, e.store, e, BucketModels, "m", model("bad"))
	waitFor(t, "three attempts at the bad digest", func() bool { return rec.count("m@"+bad) >= 3 })
	if got := a.Applied()["m"]; got != good {
		t.Fatalf("after a refusal m is on %s, want the previous %s", got, good)
	}
	if err := a.Errors()["m"]; !errors.Is(err, errInvalidArtifact) {
		t.Fatalf("Errors()[m] = %v", err)
	}
	seen, errs := refused.snapshot()
	if len(seen) != 1 || seen[0] != "m@"+bad || !errors.Is(errs[0], errInvalidArtifact) {
		t.Fatalf("OnRefused calls %v (%v), want one for m@bad", seen, errs)
	}

	rec.setBad(bad, false) // the registry now serves a good artifact under that digest
	waitFor(t, "m on the retried digest", appliedIs(a, "m", bad))
	if errs := a.Errors(); len(errs) != 0 {
		t.Fatalf("after converging Errors = %v", errs)
	}
}

// TestApplierRollbackClearsARefusal: rolling the model back to the digest the worker still serves
// settles it without another apply.
func TestApplierRollbackClearsARefusal(t *testing.T) {
	e := newEnv(t)
	good, bad := digestOf("good"), digestOf("bad")
	goodRev := mustPut(t, e.store, e, BucketModels, "m", model("good"))
	var rec recorder
	rec.setBad(bad, true)
	a := NewApplier(e.store, "w1", rec.apply, nil)
	runApplier(t, a)
	mustPut(t, e.store, e, BucketModels, "m", model("bad"))
	waitFor(t, "the refusal", func() bool { return a.Errors()["m"] != nil })
	if _, err := e.store.Rollback(e.ctx(), BucketModels, "m", goodRev); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal to clear", func() bool { return len(a.Errors()) == 0 })
	if got := a.Applied()["m"]; got != good || rec.count("m@"+good) != 1 {
		t.Fatalf("m on %s after %d applies of good, want on good after one", got, rec.count("m@"+good))
	}
}

// TestApplierAppliesOnlyItsWorkersModels: an applier limited to the models its worker serves
// never applies (so never refuses, nor reports as refused) another model's document, which a
// worker that does not serve that model would refuse on every retry.
func TestApplierAppliesOnlyItsWorkersModels(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e.store, e, BucketModels, "mine", model("good"))
	mustPut(t, e.store, e, BucketModels, "other", model("other"))
	var rec recorder
	var refused refusals
	a := NewApplier(e.store, "w1", rec.apply, nil)
	a.Serves = []string{"mine"}
	a.OnRefused = refused.record
	runApplier(t, a)
	mustPut(t, e.store, e, BucketModels, "other", model("other2"))
	mustPut(t, e.store, e, BucketModels, "mine", model("next"))
	waitFor(t, "mine on its new digest", appliedIs(a, "mine", digestOf("next")))
	for _, c := range rec.all() {
		if len(c) >= 6 && c[:6] == "other@" {
			t.Fatalf("applier applied %s, a model its worker does not serve (calls %v)", c, rec.all())
		}
	}
	if _, ok := a.Applied()["other"]; ok {
		t.Errorf("Applied() reports the unserved model: %v", a.Applied())
	}
	if seen, _ := refused.snapshot(); len(seen) != 0 {
		t.Errorf("OnRefused calls %v, want none", seen)
	}
}
