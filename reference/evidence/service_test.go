package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/aruntime/arcert/api/discovery"
)

// appendAll appends records with request ids prefix1..prefixN through c.
func appendAll(t *testing.T, c *Client, prefix string, n int) {
	t.Helper()
	for i := range n {
		got, err := c.Append(testCtx(t), sample(fmt.Sprintf("%s%d", prefix, i+1)))
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != 0 || got.Hash != "" {
			t.Fatalf("Append returned chain fields %d %q before the Service chained the record", got.Seq, got.Hash)
		}
	}
}

func TestAppendedRecordsAreChainedInOrder(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	if err := EnsureStreams(testCtx(t), js, 1); err != nil {
		t.Fatal(err)
	}
	runService(t, n.connect("service"), ServiceOptions{})
	c := newClient(t, js, nil)
	appendAll(t, c, "r", 50)

	recs := waitChained(t, js, 50)
	for i, r := range recs {
		if want := fmt.Sprintf("r%d", i+1); r.RequestID != want || r.Seq != uint64(i+1) {
			t.Fatalf("record %d is %s seq %d, want %s seq %d", i, r.RequestID, r.Seq, want, i+1)
		}
	}
	if err := Verify(recs); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, js, 50)
	got, err := c.ByRequestID(testCtx(t), "r7")
	if err != nil || len(got) != 1 || got[0].Seq != 7 || got[0].Hash != recs[6].Hash {
		t.Fatalf("ByRequestID(r7) = %+v, %v; want the record of seq 7", got, err)
	}
	if _, err := c.ByRequestID(testCtx(t), "nope"); !isNotFound(err) {
		t.Errorf("unknown request: %v, want ErrNotFound", err)
	}
	page, err := c.Since(testCtx(t), 45, 3)
	if err != nil || len(page) != 3 || page[0].Seq != 46 || page[2].Seq != 48 {
		t.Fatalf("Since(45, 3) = %d records from seq %v, %v; want 46 to 48", len(page), page, err)
	}
	if st := c.Stats(); st.Published != 50 || st.Spooled != 0 {
		t.Errorf("client stats %+v, want 50 published, none spooled", st)
	}
}

func TestAppendRefusesInvalidRecords(t *testing.T) {
	n := startNode(t)
	c := newClient(t, n.connect("test"), nil)
	nan, longID, huge := sample("r1"), sample(strings.Repeat("x", maxRequestIDBytes+1)), sample("r1")
	nan.DurationMS = math.NaN()
	huge.Model = strings.Repeat("m", maxRecordBytes)
	for _, r := range []discovery.Record{sample(""), nan, longID, huge} {
		if _, err := c.Append(testCtx(t), r); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("Append(%q) = %v, want ErrInvalidRecord", r.RequestID, err)
		}
	}
	if _, err := NewClient(nil, ClientOptions{SpoolPath: "x"}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewClient without JetStream: %v, want ErrInvalidArgument", err)
	}
	if _, err := c.Since(testCtx(t), 0, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Since limit 0: %v, want ErrInvalidArgument", err)
	}
}

func TestServiceRestartResumesChain(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	c := newClient(t, js, nil)
	_, stop := runService(t, n.connect("service-1"), ServiceOptions{})
	appendAll(t, c, "a", 10)
	before := waitChained(t, js, 10)
	stop()

	appendAll(t, c, "b", 10) // waits in the inbox while no Service runs
	runService(t, n.connect("service-2"), ServiceOptions{})
	after := waitChained(t, js, 20)
	if after[10].PrevHash != before[9].Hash || after[10].RequestID != "b1" {
		t.Fatalf("first record after the restart is %s linked to %q, want b1 linked to %q", after[10].RequestID, after[10].PrevHash, before[9].Hash)
	}
	mustVerify(t, js, 20)
}

// publishInbox publishes r to the inbox as a replay with msgID, bypassing the Client, to stand
// for a copy arriving after the inbox's de-duplication window has forgotten the first.
func publishInbox(t *testing.T, js jetstream.JetStream, r discovery.Record, msgID string) {
	t.Helper()
	body, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(InboxSubject)
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	m.Header.Set(replayHeader, "1")
	if _, err := js.PublishMsg(testCtx(t), m); err != nil {
		t.Fatal(err)
	}
}

func TestDuplicatesAreChainedOnce(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	c := newClient(t, js, nil)
	svc, _ := runService(t, n.connect("service"), ServiceOptions{})

	first, second := sample("dup"), sample("dup")
	// A second, different record of the same request (a billing correction) is kept; the
	// repeat of the first is dropped (by the inbox, as the same message, or by the Service).
	second.CostMicroUSD = 7
	for _, r := range []discovery.Record{first, first, second} {
		if _, err := c.Append(testCtx(t), r); err != nil {
			t.Fatal(err)
		}
	}
	waitChained(t, js, 2)
	// Copies the inbox cannot recognise any more: a replay of the request's last record, found
	// by its last message, and of its first, found by reading the whole subject.
	publishInbox(t, js, second, "late-copy-1")
	publishInbox(t, js, first, "late-copy-2")
	publishInbox(t, js, sample("fresh"), "late-copy-3") // a replay of a record never chained
	recs := waitChained(t, js, 3)
	eventually(t, "the Service to drop both copies", func() bool { return svc.Stats().Duplicates == 2 })

	if recs[2].RequestID != "fresh" {
		t.Fatalf("third record is %s, want the fresh replay", recs[2].RequestID)
	}
	got, err := c.ByRequestID(testCtx(t), "dup")
	if err != nil || len(got) != 2 || got[0].CostMicroUSD != first.CostMicroUSD || got[1].CostMicroUSD != 7 {
		t.Fatalf("ByRequestID(dup) = %+v, %v; want its two distinct records once each", got, err)
	}
	if chainLen(testCtx(t), js) != 3 {
		t.Fatalf("chain holds %d records, want 3", chainLen(testCtx(t), js))
	}
	mustVerify(t, js, 3)
}

func TestServiceRefusesInvalidInboxMessage(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	if err := EnsureStreams(testCtx(t), js, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(testCtx(t), InboxSubject, []byte("not json")); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, js, nil)
	appendAll(t, c, "ok", 1)
	svc, _ := runService(t, n.connect("service"), ServiceOptions{})
	waitChained(t, js, 1)
	eventually(t, "the refusal to be counted", func() bool { return svc.Stats().Refused == 1 })
}

// A Service finding a tail it cannot verify stops instead of vouching for it.
func TestServiceRefusesForgedTail(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	c := newClient(t, js, nil)
	_, stop := runService(t, n.connect("service-1"), ServiceOptions{})
	appendAll(t, c, "r", 3)
	recs := waitChained(t, js, 3)
	stop()

	forged := recs[2]
	forged.Seq, forged.Tenant = 4, "mallory"
	publishChain(t, js, forged)

	s, err := NewService(n.connect("service-2"), ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(testCtx(t)); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("Run on a forged tail = %v, want ErrBrokenChain", err)
	}
}

// Appends from many goroutines at once are grouped into shared inbox messages and still chain
// exactly once each.
func TestConcurrentAppendsChainOnce(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	c := newClient(t, js, nil)
	svc, _ := runService(t, n.connect("service"), ServiceOptions{})
	const writers, each = 16, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := c.Append(testCtx(t), sample(fmt.Sprintf("w%d-%d", w, i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	recs := waitChained(t, js, writers*each)
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.RequestID] {
			t.Fatalf("%s chained twice", r.RequestID)
		}
		seen[r.RequestID] = true
	}
	mustVerify(t, js, writers*each)
	// The Service counts a record once its chain write is acknowledged, which it waits for at the
	// end of a fetch round: the records can be read on the chain a moment before they are counted.
	deadline := time.Now().Add(5 * time.Second)
	st := svc.Stats()
	for st.Chained < writers*each && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		st = svc.Stats()
	}
	if st.Chained != writers*each || st.Duplicates != 0 {
		t.Errorf("service stats %+v", st)
	}
}

// Request ids are not all subject tokens; each still gets a chain subject of its own.
func TestRequestIDsThatAreNotSubjectTokens(t *testing.T) {
	n := startNode(t)
	js := n.connect("test")
	c := newClient(t, js, nil)
	runService(t, n.connect("service"), ServiceOptions{})
	ids := []string{"a.b", "a b", "*", ">", "~x", "plain-ID_1", "ü"}
	for _, id := range ids {
		if _, err := c.Append(testCtx(t), sample(id)); err != nil {
			t.Fatal(err)
		}
	}
	waitChained(t, js, uint64(len(ids)))
	for _, id := range ids {
		got, err := c.ByRequestID(testCtx(t), id)
		if err != nil || len(got) != 1 || got[0].RequestID != id {
			t.Errorf("ByRequestID(%q) = %+v, %v", id, got, err)
		}
	}
}
