package suites

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
)

// Endpoints of the synthetic two-router runtime: router-2 is the one cut.
const (
	cutHTTP   = "http://router-2:8080"
	cutGRPC   = "router-2:9090"
	otherHTTP = "http://router-1:8080"
)

var partitionT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// goodPartition is a run the runtime passed: 40 requests, one every 250 ms over four wires, to
// both routers; the window from 2 s to 8 s; the batch refused for the outage; one record each.
func goodPartition() partitionLedger {
	l := partitionLedger{router: "router-2", cutAt: []string{cutHTTP, cutGRPC},
		window:    chaosledger.Window{Start: partitionT0.Add(2 * time.Second), End: partitionT0.Add(8 * time.Second)},
		detection: time.Second, grace: deadlineGrace, paths: []string{viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream},
		batch: partitionBatch{sent: true, status: 502, class: outcome.Failed, reason: outcome.ReasonDependencyUnavailable, took: 3 * time.Second, deadline: 10 * time.Second},
		chain: chainCount{records: map[string]int{}, tenants: map[string][]string{}}}
	for i := range 40 {
		path := l.paths[i%len(l.paths)]
		ep := cutHTTP
		if path == viaGRPC || path == viaGRPCStream {
			ep = cutGRPC
		}
		if (i/4)%4 == 3 {
			ep = otherHTTP
		}
		start := partitionT0.Add(time.Duration(i) * 250 * time.Millisecond)
		id := fmt.Sprintf("req-%d", i)
		l.entries = append(l.entries, chaosledger.Entry{Seq: i + 1, Tenant: "acme", Path: path, Endpoint: ep, Start: start, End: start.Add(100 * time.Millisecond),
			Deadline: 10 * time.Second, RequestID: id, Outcome: outcome.Completed, Reason: outcome.ReasonNone, Tokens: 2})
		l.chain.records[id], l.chain.tenants[id] = 1, []string{"acme"}
	}
	return l
}

func TestPartitionPassesAGoodRun(t *testing.T) {
	l := goodPartition()
	if r := partitionGate(l); r.Verdict != scenario.Pass {
		t.Fatalf("gate: %s %s", r.Verdict, r.Message)
	}
	for what, p := range map[string][]string{"serving": partitionServing(l), "batch": partitionBatchProblems(l.batch), "evidence": partitionEvidence(l)} {
		if len(p) > 0 {
			t.Errorf("%s: %v", what, p)
		}
	}
}

// A router that refuses synchronous requests naming the state store fails, even where the
// refusal came within the detection time.
func TestPartitionFailsDependencyRefusals(t *testing.T) {
	l := goodPartition()
	refused := 0
	for i, e := range l.entries {
		if l.toCut(e) && !e.Start.Before(l.window.Start) && e.Start.Before(l.window.End) {
			l.entries[i].Outcome, l.entries[i].Reason = outcome.Failed, outcome.ReasonDependencyUnavailable
			refused++
		}
	}
	p := partitionServing(l)
	if len(p) != refused || !strings.Contains(p[0], "refused naming a dependency") {
		t.Fatalf("%d requests refused for the state store gave %d problems: %v", refused, len(p), p)
	}
}

// A dependency refusal after the window (the router is reconnected a moment after the engine ends
// the window) fails as well.
func TestPartitionFailsDependencyRefusalsWhileReconnecting(t *testing.T) {
	l := goodPartition()
	last := len(l.entries) - 1
	if !l.entries[last].Start.After(l.window.End) {
		t.Fatal("the synthetic ledger has no request after the window")
	}
	l.entries[last].Outcome, l.entries[last].Reason = outcome.Failed, outcome.ReasonDependencyUnavailable
	if p := partitionServing(l); len(p) != 1 {
		t.Fatalf("a refusal naming a dependency after the window: %v", p)
	}
}

// A request to the cut router past detection shed for capacity is not served: it fails.
func TestPartitionFailsUnservedRequests(t *testing.T) {
	l := goodPartition()
	e := l.cutSettled()[0]
	for i := range l.entries {
		if l.entries[i].Seq == e.Seq {
			l.entries[i].Outcome, l.entries[i].Reason = outcome.Shed, outcome.ReasonCapacity
		}
	}
	if p := partitionServing(l); len(p) != 1 || !strings.Contains(p[0], "not served") {
		t.Fatalf("a shed request: %v", p)
	}
}

func TestPartitionFailsLostOrDuplicatedEvidence(t *testing.T) {
	for _, n := range []int{0, 2} {
		l := goodPartition()
		l.chain.records["req-13"] = n
		p := partitionEvidence(l)
		if len(p) != 1 || !strings.Contains(p[0], "req-13") {
			t.Errorf("%d records of req-13: %v", n, p)
		}
	}
	l := goodPartition()
	l.chain.problem = "record 7 links to the wrong predecessor"
	if p := partitionEvidence(l); len(p) != 1 {
		t.Errorf("a broken chain: %v", p)
	}
}

// A spool replayed after healing appends a duplicate after every other record: the chain still
// verifies, and only the count of the whole settled chain shows it. A record naming another
// tenant fails too.
func TestPartitionFailsALateDuplicateOrAnotherTenant(t *testing.T) {
	l := goodPartition()
	l.chain = countChain(lateDuplicate(l.chain, "req-21"))
	if l.chain.problem != "" {
		t.Fatalf("the synthetic chain does not verify: %s", l.chain.problem)
	}
	if p := partitionEvidence(l); len(p) != 1 || !strings.Contains(p[0], "(req-21) has 2 evidence records, not one (duplicated)") {
		t.Errorf("a late duplicate: %v", p)
	}
	l = goodPartition()
	l.chain.tenants["req-22"] = []string{"globex"}
	if p := partitionEvidence(l); len(p) != 1 || !strings.Contains(p[0], `naming tenant "globex"`) {
		t.Errorf("a record of another tenant: %v", p)
	}
}

// The router that stays connected must keep serving too, and the load's tenants have the quota to
// spare, so a quota refusal there is the partition's doing.
func TestPartitionFailsTheConnectedRouterRefusing(t *testing.T) {
	l := goodPartition()
	i := slices.IndexFunc(l.entries, func(e chaosledger.Entry) bool { return !l.toCut(e) && e.Start.After(l.window.Start) })
	l.entries[i].Outcome, l.entries[i].Reason = outcome.Shed, outcome.ReasonCapacity
	if p := partitionServing(l); len(p) != 1 || !strings.Contains(p[0], "to the connected router http://router-1:8080 was answered shed/capacity") {
		t.Errorf("the connected router shedding: %v", p)
	}
	l.entries[i].Outcome, l.entries[i].Reason = outcome.Rejected, outcome.ReasonQuotaExceeded
	if p := partitionServing(l); len(p) != 1 || !strings.Contains(p[0], "was answered rejected/quota_exceeded") {
		t.Errorf("the connected router refusing for quota: %v", p)
	}
	l.entries[i].Outcome, l.entries[i].Reason = outcome.Rejected, outcome.ReasonConcurrencyExceeded
	if p := partitionServing(l); len(p) != 1 || !strings.Contains(p[0], "was answered rejected/concurrency_exceeded") {
		t.Errorf("the connected router refusing for concurrency: %v", p)
	}
}

// One request on a wire is too few to judge that wire.
func TestPartitionGateNeedsTwoPerWire(t *testing.T) {
	l := goodPartition()
	kept := 0
	for i, e := range l.entries {
		if e.Path == viaGRPC && l.toCut(e) && !e.Start.Before(l.window.Start.Add(l.detection)) && e.Start.Before(l.window.End) {
			if kept++; kept > 1 {
				l.entries[i].Endpoint = otherHTTP
			}
		}
	}
	if r := partitionGate(l); r.Verdict != scenario.Invalid || !strings.Contains(r.Message, "fewer than 2 requests reached router-2 over grpc") {
		t.Errorf("one grpc request to the cut router: %s %s", r.Verdict, r.Message)
	}
}

// A router that answers 200 with no content while cut is not serving.
func TestPartitionFailsAnEmptyAnswer(t *testing.T) {
	l := goodPartition()
	e := l.cutSettled()[2]
	for i := range l.entries {
		if l.entries[i].Seq == e.Seq {
			l.entries[i].Tokens = 0
		}
	}
	if p := partitionServing(l); len(p) != 1 || !strings.Contains(p[0], "with no content") {
		t.Errorf("an empty answer from the cut router: %v", p)
	}
}

// A batch left unanswered past its deadline fails, and still shows the router was cut.
func TestPartitionFailsAHungBatch(t *testing.T) {
	for _, b := range []partitionBatch{
		{sent: true, took: 12 * time.Second, deadline: 10 * time.Second, err: "context deadline exceeded"},
		{sent: true, status: 502, class: outcome.Failed, reason: outcome.ReasonDependencyUnavailable, took: 11500 * time.Millisecond, deadline: 10 * time.Second},
	} {
		l := goodPartition()
		l.batch = b
		if r := partitionGate(l); r.Verdict != scenario.Pass {
			t.Errorf("gate with a hung batch: %s %s", r.Verdict, r.Message)
		}
		if p := partitionBatchProblems(b); len(p) != 1 || !strings.Contains(p[0], "past its deadline") {
			t.Errorf("batch %+v: %v", b, p)
		}
	}
}

func TestPartitionJudgesTheBatchAnswer(t *testing.T) {
	wrong := partitionBatch{sent: true, status: 400, class: outcome.Rejected, reason: outcome.ReasonInvalidRequest, took: time.Second, deadline: 10 * time.Second}
	if p := partitionBatchProblems(wrong); len(p) != 1 || !strings.Contains(p[0], "not for the outage") {
		t.Errorf("a refusal blaming the caller: %v", p)
	}
	bogus := partitionBatch{sent: true, status: 502, class: "broken", reason: outcome.ReasonDependencyUnavailable, took: time.Second, deadline: 10 * time.Second}
	if p := partitionBatchProblems(bogus); len(p) != 1 {
		t.Errorf("an outcome outside the contract: %v", p)
	}
	ok := partitionBatch{sent: true, status: 200, class: outcome.Completed, took: time.Second, deadline: 10 * time.Second}
	if p := partitionBatchProblems(ok); len(p) != 0 {
		t.Errorf("an accepted batch: %v", p)
	}
	if p := partitionBatchProblems(partitionBatch{}); len(p) != 1 {
		t.Errorf("no batch: %v", p)
	}
}

func TestPartitionGateIsInvalidWithoutTheCutRouter(t *testing.T) {
	l := goodPartition()
	for i, e := range l.entries {
		if l.toCut(e) {
			l.entries[i].Endpoint = otherHTTP
		}
	}
	if r := partitionGate(l); r.Verdict != scenario.Invalid {
		t.Errorf("no request reached the cut router: %s %s", r.Verdict, r.Message)
	}

	l = goodPartition()
	l.entries = chaosledger.Where(l.entries, func(e chaosledger.Entry) bool { return e.Path != viaGRPCStream })
	if r := partitionGate(l); r.Verdict != scenario.Invalid || !strings.Contains(r.Message, viaGRPCStream) {
		t.Errorf("no grpc-stream request reached the cut router: %s %s", r.Verdict, r.Message)
	}
}

// A run in which the router showed no sign of the cut (batch accepted, every sampled record
// chained) proves nothing; one record held back is enough.
func TestPartitionGateNeedsASignOfTheCut(t *testing.T) {
	l := goodPartition()
	l.batch = partitionBatch{sent: true, status: 200, class: outcome.Completed, took: time.Second, deadline: 10 * time.Second}
	l.spool = spoolProbe{sampled: 10}
	if r := partitionGate(l); r.Verdict != scenario.Invalid {
		t.Errorf("no sign of the cut: %s %s", r.Verdict, r.Message)
	}
	l.spool.absent = 1
	if r := partitionGate(l); r.Verdict != scenario.Pass {
		t.Errorf("a record held back: %s %s", r.Verdict, r.Message)
	}
}

// Every tenant meets every wire on both routers, most of it on the cut one.
func TestPartitionRouterReachesBothRouters(t *testing.T) {
	const tenants, paths = 2, 4
	cycle := tenants * paths
	seen := map[[3]int]bool{}
	toCut := 0
	n := cycle * partitionOtherEvery * 3
	for i := range n {
		k := partitionRouter(i, cycle, 1, 0)
		if k == 1 {
			toCut++
		}
		seen[[3]int{i % tenants, (i / tenants) % paths, k}] = true
	}
	if len(seen) != tenants*paths*2 {
		t.Errorf("%d of %d tenant, wire and router combinations reached", len(seen), tenants*paths*2)
	}
	if want := n * (partitionOtherEvery - 1) / partitionOtherEvery; toCut != want {
		t.Errorf("%d of %d requests to the cut router, want %d", toCut, n, want)
	}
}
