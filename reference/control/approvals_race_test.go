package control

import (
	"encoding/json"
	"sync"
	"testing"
)

// racingTrials is how many rollouts TestRacingFinalApprovalsWriteTheDocumentOnce races: one race
// may be won before the other caller reads, so several give the race its chance.
const racingTrials = 12

// TestRacingFinalApprovalsWriteTheDocumentOnce: with one of two approvals given, two operators
// approve at once. Exactly one call releases the rollout, the document is written once, and the
// record's approvals and applied revision are those of that write.
func TestRacingFinalApprovalsWriteTheDocumentOnce(t *testing.T) {
	e := newEnv(t)
	doc, err := json.Marshal(model("v3"))
	if err != nil {
		t.Fatal(err)
	}
	for trial := range racingTrials {
		base := mustPut(t, e.store, e, BucketModels, "m", model("v1"))
		h, err := e.store.Hold(e.ctx(), BucketModels, "m", digestOf("v3"), doc, 2, "ops")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := e.store.Approve(e.ctx(), h.ID, "ops", false); err != nil {
			t.Fatal(err)
		}
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			applied [2]bool
			errs    [2]error
		)
		for i, who := range []string{"ops-2", "ops-3"} {
			wg.Go(func() {
				<-start
				_, _, applied[i], errs[i] = e.store.Approve(e.ctx(), h.ID, who, false)
			})
		}
		close(start)
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("trial %d: approvals failed: %v, %v", trial, errs[0], errs[1])
		}
		if applied[0] == applied[1] {
			t.Fatalf("trial %d: applied by ops-2 %v, by ops-3 %v; want exactly one release", trial, applied[0], applied[1])
		}
		hist, err := e.store.History(e.ctx(), BucketModels, "m")
		if err != nil {
			t.Fatal(err)
		}
		var writes []uint64
		for _, en := range hist {
			if en.Revision > base {
				writes = append(writes, en.Revision)
			}
		}
		got, err := e.store.HeldRollout(e.ctx(), h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(writes) != 1 || got.State != StateApplied || got.AppliedRevision != writes[0] || len(got.Approvals) != 2 {
			t.Fatalf("trial %d: the document was written at revisions %v; the record is %s at revision %d with approvals %+v; want one write, applied at it, with 2 approvals",
				trial, writes, got.State, got.AppliedRevision, got.Approvals)
		}
	}
}

// TestFinishApplyingCompletesWhatACrashLeft: a record left applying before its document was
// written gets it written once; one left applying after the write takes that revision and writes
// nothing more.
func TestFinishApplyingCompletesWhatACrashLeft(t *testing.T) {
	e := newEnv(t)
	base := mustPut(t, e.store, e, BucketModels, "m", model("v1"))
	doc, err := json.Marshal(model("v3"))
	if err != nil {
		t.Fatal(err)
	}
	leave := func(id string, baseRev uint64) {
		r := HeldRollout{ID: id, Bucket: BucketModels, Key: "m", Digest: digestOf("v3"), Document: doc, Required: 1,
			Approvals: []Approval{{Operator: "ops"}}, State: StateApplying, BaseRevision: baseRev}
		b, _ := json.Marshal(r)
		if _, err := e.store.kv[BucketApprovals].Create(e.ctx(), id, b); err != nil {
			t.Fatal(err)
		}
	}
	leave("ro-00000000000000a1", base)
	if n, err := e.store.FinishApplying(e.ctx()); err != nil || n != 1 {
		t.Fatalf("FinishApplying finished %d (%v), want 1", n, err)
	}
	got, err := e.store.HeldRollout(e.ctx(), "ro-00000000000000a1")
	if err != nil || got.State != StateApplied || got.AppliedRevision != base+1 || currentDigest(t, e.store) != digestOf("v3") {
		t.Fatalf("after FinishApplying: %s at revision %d (%v), m on %s; want applied at %d on v3", got.State, got.AppliedRevision, err, currentDigest(t, e.store), base+1)
	}
	leave("ro-00000000000000a2", base) // as if it crashed after writing revision base+1
	if n, err := e.store.FinishApplying(e.ctx()); err != nil || n != 1 {
		t.Fatalf("FinishApplying finished %d (%v), want 1", n, err)
	}
	got, _ = e.store.HeldRollout(e.ctx(), "ro-00000000000000a2")
	hist, _ := e.store.History(e.ctx(), BucketModels, "m")
	if got.State != StateApplied || got.AppliedRevision != base+1 || len(hist) != 2 {
		t.Fatalf("a record left applying after its write: %s at revision %d, m has %d revisions; want applied at %d, no new write", got.State, got.AppliedRevision, len(hist), base+1)
	}
}
