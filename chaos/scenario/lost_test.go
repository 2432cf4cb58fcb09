package scenario

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
)

func TestNothingLostReconcilesAnsweredRequestsToo(t *testing.T) {
	ctx := context.Background()
	var served []ledger.Entry
	for i := 1; i <= 10; i++ {
		served = append(served, ledger.Entry{Seq: i, RequestID: fmt.Sprintf("r%d", i), Outcome: outcome.Completed})
	}
	c := Counts{Requests: 10, Served: 10, Outcomes: map[string]int{"completed/": 10}}
	e := Expectation{NothingLost: true}
	// A runtime that answers every request and records none of them loses everything.
	none := func(context.Context, string) (int, error) { return 0, nil }
	if r := Judge(ctx, e, c, served, none); r.Verdict != Fail || !strings.Contains(r.Message, "10 lost (#1, #2") {
		t.Fatalf("no records at all: %+v", r)
	}
	twice := func(_ context.Context, id string) (int, error) {
		if id == "r4" {
			return 2, nil
		}
		return 1, nil
	}
	if r := Judge(ctx, e, c, served, twice); r.Verdict != Fail || !strings.Contains(r.Message, "1 duplicated (#4)") {
		t.Fatalf("r4 twice: %+v", r)
	}
	// Without a single request id there is nothing to reconcile: the expectation says nothing.
	if r := Judge(ctx, e, c, nil, none); r.Verdict != Invalid || !strings.Contains(r.Message, "none of 10 requests carries a request id") {
		t.Fatalf("no ids: %+v", r)
	}
}

func TestARunReconcilesOnlyThePhasesThatAskForIt(t *testing.T) {
	t.Parallel()
	f := newFake(NewVirtualClock(t0))
	env := f.env()
	send := env.Send
	env.Send = func(ctx context.Context, req Request) ledger.Entry {
		e := send(ctx, req)
		e.RequestID = fmt.Sprintf("%s-%d", req.Phase, req.Seq)
		return e
	}
	var mu sync.Mutex
	looked := map[string]int{}
	env.Records = func(_ context.Context, id string) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		looked[strings.Split(id, "-")[0]]++
		return 0, nil // the runtime kept no evidence
	}
	load := []Load{{Tenant: "a", Rate: 20}}
	p := Plan{Name: "lost", Seed: 2, Phases: []Phase{
		{Name: "plain", Duration: 2 * time.Second, Load: load, Expect: []Expectation{{MinServed: 0.9}}},
		{Name: "judged", Duration: 2 * time.Second, Load: load, Expect: []Expectation{{Name: "kept", NothingLost: true}}},
	}}
	out := Run(context.Background(), p, env)
	if out.Status != StatusDeviated || out.Expectations[1].Result.Verdict != Fail || !strings.Contains(out.Expectations[1].Result.Message, "lost") {
		t.Fatalf("status %s, expectations %+v", out.Status, out.Expectations)
	}
	if looked["plain"] != 0 || looked["judged"] != out.Expectations[1].Samples {
		t.Fatalf("lookups %v; want none in plain and one per request (%d) in judged", looked, out.Expectations[1].Samples)
	}
}
