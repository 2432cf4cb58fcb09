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

func TestJudgeDoesNotPassOnNothingServedOrBrokenRequests(t *testing.T) {
	ctx := context.Background()
	refused := Counts{Requests: 20, Outcomes: map[string]int{"failed/dependency_unavailable": 20}}
	if r := Judge(ctx, Expectation{MaxP90TTFT: time.Second}, refused, nil, nil); r.Verdict != Invalid || !strings.Contains(r.Message, "only 0 of 20 requests of every tenant served") {
		t.Fatalf("p90 TTFT on nothing served: %+v", r)
	}
	// A policy is kept by refusals too: nothing went where it must not, and the PASS says that
	// nothing was served.
	if r := Judge(ctx, Expectation{Forbidden: []string{"us-east"}}, refused, nil, nil); r.Verdict != Pass || !strings.Contains(r.Message, "0 served") {
		t.Fatalf("forbidden servers on nothing served: %+v", r)
	}
	// A share that is not met is a FAIL however few were served.
	if r := Judge(ctx, Expectation{MinServed: 0.5, MaxP90TTFT: time.Second}, refused, nil, nil); r.Verdict != Fail {
		t.Fatalf("min served and p90 on nothing served: %+v", r)
	}
	broken := Counts{Requests: 20, Served: 20, Broken: 2, BrokenExample: "request #4: no outcome stated", Outcomes: map[string]int{"completed/": 20}}
	if r := Judge(ctx, Expectation{MinServed: 0.5}, broken, nil, nil); r.Verdict != Fail || !strings.Contains(r.Message, "2 broke the ledger's invariants (request #4: no outcome stated)") {
		t.Fatalf("broken: %+v", r)
	}
	hung := Counts{Requests: 20, Served: 20, Hung: 1, HungExample: "request #9 took 5s against a deadline of 1s", Outcomes: map[string]int{"completed/": 20}}
	if r := Judge(ctx, Expectation{Allowed: []string{"completed", "indeterminate"}}, hung, nil, nil); r.Verdict != Fail || !strings.Contains(r.Message, "1 hung past their deadline (request #9 took 5s") {
		t.Fatalf("hung: %+v", r)
	}
}

func TestTallyNamesABrokenAndAHungRequest(t *testing.T) {
	tl := NewTally(time.Second)
	at := time.Unix(0, 0)
	tl.Add(ledger.Entry{Seq: 1, Tenant: "a", Start: at, End: at.Add(5 * time.Second), Deadline: time.Second, Outcome: outcome.Completed})
	tl.Add(ledger.Entry{Seq: 2, Tenant: "b", Start: at, End: at})
	c := tl.Of("", "")
	if c.Hung != 1 || c.Broken != 1 || !strings.Contains(c.HungExample, "request #1 took 5s") || !strings.HasPrefix(c.BrokenExample, "request #2: ") {
		t.Fatalf("%+v", c)
	}
}
