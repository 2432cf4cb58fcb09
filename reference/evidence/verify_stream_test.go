package evidence

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
)

// Tampering is simulated by publishing straight onto the chain subjects. JetStream has no
// in-place edit, and the chain stream refuses deletes and purges (TestChainStreamIsAppendOnly),
// so appending a forged record is what someone able to publish there can do; gaps are made on a
// stream created without those refusals, standing for storage damaged underneath JetStream.

// publishChain appends records to the chain stream as they are, bypassing the Service.
func publishChain(t *testing.T, js jetstream.JetStream, recs ...discovery.Record) {
	t.Helper()
	for _, r := range recs {
		body, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(testCtx(t), chainSubject(r.RequestID), body); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyStreamFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forge  func(c []discovery.Record) discovery.Record
		naming string
	}{
		{"edited copy appended", func(c []discovery.Record) discovery.Record {
			r := c[1]
			r.Tenant = "mallory"
			return r
		}, "seq 4: holds a record with seq 2"},
		{"field edited, hash kept", func(c []discovery.Record) discovery.Record {
			r := next(c)
			r.CostMicroUSD = 0
			return r
		}, "seq 4: hash"},
		{"hash recomputed, link not", func(c []discovery.Record) discovery.Record {
			r := next(c)
			r.PrevHash = c[1].Hash
			r.Hash = Hash(r)
			return r
		}, "seq 4: prev_hash does not match the hash of seq 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t)
			js := n.connect("test")
			if err := EnsureStreams(testCtx(t), js, 1); err != nil {
				t.Fatal(err)
			}
			good := chain(3)
			publishChain(t, js, good...)
			mustVerify(t, js, 3)
			publishChain(t, js, tc.forge(good))
			rep, err := VerifyStream(testCtx(t), js)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(rep.Err(), ErrBrokenChain) || !strings.Contains(rep.FirstBroken, tc.naming) || rep.Broken != 1 || rep.Records != 4 {
				t.Fatalf("report %+v (%v), want one broken record naming %q", rep, rep.Err(), tc.naming)
			}
		})
	}
}

// next is the record that would properly follow c.
func next(c []discovery.Record) discovery.Record {
	r := sample("z")
	r.Seq, r.PrevHash = c[len(c)-1].Seq+1, c[len(c)-1].Hash
	r.Hash = Hash(r)
	return r
}

func TestVerifyStreamFindsGapsAndUnlinkedStart(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	ctx := testCtx(t)
	cfg := streamConfigs(1)[1]
	cfg.DenyDelete, cfg.DenyPurge = false, false
	st, err := js.CreateStream(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := chain(8)
	recs[0].PrevHash = "" // a chain that does not start at genesis
	recs[0].Hash = Hash(recs[0])
	publishChain(t, js, recs...)
	for _, seq := range []uint64{3, 5, 6, 8} {
		if err := st.DeleteMsg(ctx, seq); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := VerifyStream(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	want := []Gap{{3, 3}, {5, 6}, {8, 8}}
	if len(rep.Gaps) != len(want) || rep.Gaps[0] != want[0] || rep.Gaps[1] != want[1] || rep.Gaps[2] != want[2] {
		t.Errorf("gaps %v, want %v", rep.Gaps, want)
	}
	if rep.Records != 4 || rep.Broken != 2 || !strings.Contains(rep.FirstBroken, "seq 1: prev_hash") { // seq 2 links to the original seq 1
		t.Errorf("report %+v, want 4 records, seq 1 and 2 broken", rep)
	}
	if !errors.Is(rep.Err(), ErrBrokenChain) {
		t.Errorf("Err = %v, want ErrBrokenChain first", rep.Err())
	}
	rep.Broken = 0
	if !errors.Is(rep.Err(), ErrGap) {
		t.Errorf("without the broken record Err = %v, want ErrGap", rep.Err())
	}
}

func TestChainStreamIsAppendOnly(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	ctx := testCtx(t)
	for range 2 { // a second call, from another role, is harmless
		if err := EnsureStreams(ctx, js, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range streamConfigs(1) { // so later calls leave the streams alone
		st, err := js.Stream(ctx, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if cur := st.CachedInfo().Config; !declared(cur, want) {
			t.Fatalf("stream %s: configuration %+v is not as declared", want.Name, cur)
		}
	}
	publishChain(t, js, chain(2)...)
	st, err := js.Stream(ctx, ChainStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMsg(ctx, 1); err == nil {
		t.Error("deleting a chained record succeeded")
	}
	if err := st.Purge(ctx); err == nil {
		t.Error("purging the chain succeeded")
	}
	cfg := streamConfigs(1)[1]
	cfg.DenyDelete = false
	if _, err := js.UpdateStream(ctx, cfg); err == nil {
		t.Error("the chain stream was allowed to start accepting deletes")
	}
	mustVerify(t, js, 2)
}

func TestVerifyEmptyChain(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	if err := EnsureStreams(testCtx(t), js, 1); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, js, 0)
	if rep.FirstSeq != 0 || rep.LastSeq != 0 || len(rep.Gaps) != 0 {
		t.Fatalf("empty chain report %+v", rep)
	}
}
