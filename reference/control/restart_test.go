package control

import (
	"slices"
	"testing"
	"time"
)

// TestWatchSurvivesServerRestart: the JetStream server restarts on the same store directory; the
// documents and their history are still there, a running worker's watch picks up a change made
// after the restart, and a worker started afresh comes back on the pinned digest.
func TestWatchSurvivesServerRestart(t *testing.T) {
	e := newEnv(t)
	r1 := mustPut(t, e.store, e, BucketModels, "m", model("a"))
	var rec recorder
	a := NewApplier(e.store, "w1", rec.apply, nil)
	runApplier(t, a)

	e.restart()
	started := time.Now()
	h, err := retry(t, func() ([]Entry, error) { return e.store.History(e.ctx(), BucketModels, "m") })
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Revision != r1 {
		t.Fatalf("after restart history = %+v, want revision %d only", h, r1)
	}
	if _, err := retry(t, func() (uint64, error) { return e.store.Put(e.ctx(), BucketModels, "m", model("b")) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the running worker to apply b", appliedIs(a, "m", digestOf("b")))
	t.Logf("the watch resumed %s after the restart", time.Since(started).Round(time.Millisecond))
	if got, want := rec.all(), []string{"m@" + digestOf("a"), "m@" + digestOf("b")}; !slices.Equal(got, want) {
		t.Fatalf("apply calls %v, want %v", got, want)
	}

	var fresh recorder
	replaced := NewApplier(e.store, "w1", fresh.apply, nil)
	runApplier(t, replaced)
	if got := replaced.Applied()["m"]; got != digestOf("b") {
		t.Fatalf("a replaced worker came back on %q, want b", got)
	}
}

// retry calls f until it succeeds or testTimeout passes: right after a restart the client is
// still reconnecting and JetStream still recovering its store.
func retry[T any](t *testing.T, f func() (T, error)) (T, error) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		v, err := f()
		if err == nil || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(pollInterval)
	}
}
