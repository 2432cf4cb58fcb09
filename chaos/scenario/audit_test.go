package scenario

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/chaos/ledger"
)

// TestNothingLostAuditsServedRequests: a served request with no evidence record is lost and one
// with two is duplicated, as an indeterminate one would be.
func TestNothingLostAuditsServedRequests(t *testing.T) {
	ctx := context.Background()
	c := Counts{Requests: 3, Served: 3, Outcomes: map[string]int{"completed/none": 3}}
	served := []ledger.Entry{{Seq: 2, RequestID: "r2", Outcome: "completed"}, {Seq: 1, RequestID: "r1", Outcome: "completed"},
		{Seq: 3, RequestID: "r3", Outcome: "completed"}}
	records := func(_ context.Context, id string) (int, error) {
		return map[string]int{"r1": 0, "r2": 2, "r3": 1}[id], nil
	}
	e := Expectation{NothingLost: true, MinSamples: 1}
	r := Judge(ctx, e, c, served, records)
	if r.Verdict != Fail || !strings.Contains(r.Message, "1 lost (#1)") || !strings.Contains(r.Message, "1 duplicated (#2)") {
		t.Fatalf("r1 lost, r2 duplicated: %+v", r)
	}
	failing := func(context.Context, string) (int, error) { return 0, fmt.Errorf("listing refused") }
	if r := Judge(ctx, e, c, served, failing); r.Verdict != Inconclusive || !strings.Contains(r.Message, "listing refused") {
		t.Fatalf("a failed lookup is inconclusive: %+v", r)
	}
}

// TestARunAuditsOnlyItsNothingLostPhasesAndWaitsForLateRecords: the served requests of the phase
// with a nothing-lost expectation are looked up (those of the other phase are not), a record
// that arrives late is waited for, and a missing one fails the expectation.
func TestARunAuditsOnlyItsNothingLostPhasesAndWaitsForLateRecords(t *testing.T) {
	t.Parallel()
	f := newFake(nil)
	env := f.env()
	env.Send = func(ctx context.Context, req Request) ledger.Entry {
		e := f.send(ctx, req)
		e.RequestID = fmt.Sprintf("req-%d", req.Seq)
		return e
	}
	var mu sync.Mutex
	asked := map[string]int{}
	var audited []string
	env.Records = func(_ context.Context, id string) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		asked[id]++
		if asked[id] == 1 {
			audited = append(audited, id)
		}
		switch {
		case id == audited[0] && asked[id] < 3:
			return 0, nil // spooled: arrives on the third look
		case len(audited) > 1 && id == audited[1]:
			return 0, nil // never recorded: lost
		}
		return 1, nil
	}
	load := []Load{{Tenant: "a", Rate: 50}}
	p := Plan{Name: "audit", Seed: 3, Recovery: 2 * time.Second, Phases: []Phase{
		{Name: "unaudited", Duration: 300 * time.Millisecond, Load: load},
		{Name: "audited", Duration: 300 * time.Millisecond, Load: load, Expect: []Expectation{{Name: "kept", NothingLost: true, MinSamples: 3}}},
	}}
	out := Run(context.Background(), p, env)
	if len(out.Expectations) != 1 {
		t.Fatalf("expectations %+v", out.Expectations)
	}
	r := out.Expectations[0].Result
	mu.Lock()
	defer mu.Unlock()
	if len(audited) < 3 || len(audited) != out.Phases[1].Counts[0].Served {
		t.Fatalf("looked up %d requests, the audited phase served %+v", len(audited), out.Phases[1].Counts)
	}
	lost := strings.TrimPrefix(audited[1], "req-")
	if r.Verdict != Fail || r.Message != fmt.Sprintf("every tenant: 1 lost (#%s)", lost) {
		t.Fatalf("want only #%s lost: %+v", lost, r)
	}
	if asked[audited[0]] != 3 {
		t.Fatalf("the late record was asked for %d times, want 3", asked[audited[0]])
	}
	if out.Status != StatusDeviated {
		t.Fatalf("status %s", out.Status)
	}
}
