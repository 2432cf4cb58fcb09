package suites

import (
	"github.com/aruntime/arcert/conformance/target"
	"slices"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
)

// at is t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// rollRun is a rolling restart that passes: two routers, 60 requests over 6 s, router a away
// from 1 s to 2.5 s and router b from 3.5 s to 5 s, the balancer seeing one ready at all times,
// one HTTP request and one gRPC request shed for draining (with a Retry-After, and a RetryInfo).
func rollRun() rolling {
	records := map[string]int{}
	entries := servedEntries(1, 60, t0, records)
	entries[13].Outcome, entries[13].Reason, entries[13].RetryAfter, entries[13].Endpoint = outcome.Shed, outcome.ReasonDraining, time.Second, "a"
	entries[14].Outcome, entries[14].Reason, entries[14].RetryAfter, entries[14].Endpoint = outcome.Shed, outcome.ReasonDraining, time.Second, "a:9090"
	if entries[13].Path != viaHTTPStream || entries[14].Path != viaGRPC {
		panic("the fixture's sheds are no longer on http-stream and grpc")
	}
	return rolling{entries: entries, want: 2, bases: []string{"a", "b"}, from: t0, to: at(6000), chain: chainOf(records, "acme"), grace: time.Second,
		paths: []string{viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream},
		steps: []rollStep{{router: "router-1", base: "a", addr: "a:9090", start: at(1000), stopped: at(1700), back: at(2500)},
			{router: "router-2", base: "b", addr: "b:9090", start: at(3500), stopped: at(4200), back: at(5000)}},
		// Each router answers 503 (its notice, six probes) from its stop, stops answering 600 ms
		// later as its process ends, and is ready again when it is back. Probe n ends at about
		// -600 ms + n x 100 ms.
		changes: []driver.Change{seen("a", 1, true, true), seen("b", 1, true, true),
			seen("a", 17, false, true), seen("a", 23, false, false), seen("a", 31, true, true),
			seen("b", 42, false, true), seen("b", 48, false, false), seen("b", 56, true, true)},
		poll: 100 * time.Millisecond}
}

// seen is the readiness change base's n-th probe saw, ending at about -600 ms + n x 100 ms
// (a timed-out probe ends 80 ms later, as its answer never came).
func seen(base string, n int, ready, answered bool) driver.Change {
	ms := -600 + 100*n
	if !answered {
		ms += 80
	}
	return driver.Change{Base: base, Ready: ready, Answered: answered, Probe: n, At: at(ms)}
}

// withChanges is the fixture with base's readiness history replaced.
func withChanges(r rolling, base string, cs ...driver.Change) []driver.Change {
	out := slices.DeleteFunc(slices.Clone(r.changes), func(c driver.Change) bool { return c.Base == base && c.Probe > 1 })
	out = append(out, cs...)
	slices.SortStableFunc(out, func(x, y driver.Change) int { return x.At.Compare(y.At) })
	return out
}

func TestRollingPassesWhenOnlyDrainingSheds(t *testing.T) {
	expectVerdict(t, judgeRolling(rollRun()), scenario.Pass, "2 shed for draining")
	if n := drainedSheds(rollRun().entries); n != 2 {
		t.Errorf("drainedSheds = %d, want 2", n)
	}
}

func TestRollingFails(t *testing.T) {
	cases := map[string]struct {
		change func(*rolling)
		want   string
	}{
		"an HTTP shed without Retry-After": {func(r *rolling) { r.entries[13].RetryAfter = 0 }, "request #14 (http-stream) to a was shed for draining without a retry delay (Retry-After)"},
		"a gRPC shed without RetryInfo":    {func(r *rolling) { r.entries[14].RetryAfter = 0 }, "request #15 (grpc) to a:9090 was shed for draining without a retry delay (google.rpc.RetryInfo)"},
		"a connection error": {func(r *rolling) {
			r.entries[30].Error, r.entries[30].Indeterminate, r.entries[30].Outcome, r.entries[30].Endpoint = "dial tcp: connection refused", true, "", "b"
		}, "request #31 (grpc) to b was lost: dial tcp: connection refused"},
		"a refusal other than draining": {func(r *rolling) {
			r.entries[40].Outcome, r.entries[40].Reason = outcome.Shed, outcome.ReasonCapacity
		}, "refused shed/capacity; the only refusal a rolling restart allows is shed/draining"},
		"a duplicated evidence record":  {func(r *rolling) { r.chain.records["req-20"] = 2 }, "(req-20) has 2 evidence records"},
		"a missing evidence record":     {func(r *rolling) { r.chain.records["req-12"] = 0 }, "(req-12) has 0 evidence records"},
		"a request without an outcome":  {func(r *rolling) { r.entries[5].Outcome = "" }, "request #6: no outcome stated"},
		"a router that never came back": {func(r *rolling) { r.steps[1].back = time.Time{} }, "router router-2 never reported ready again after its restart"},
		"the first of three never came back, the turn ended there": {func(r *rolling) {
			r.want, r.steps[0].back, r.steps = 3, time.Time{}, r.steps[:1]
		}, "router router-1 never reported ready again"},
		"a duplicate appended late":      {func(r *rolling) { r.chain = countChain(lateDuplicate(r.chain, "req-40")) }, "(req-40) has 2 evidence records, not one (duplicated)"},
		"a record naming another tenant": {func(r *rolling) { r.chain.tenants["req-41"] = []string{"globex"} }, `naming tenant "globex"`},
		"a chain that does not verify":   {func(r *rolling) { r.chain.problem = "seq 9 does not link" }, "chain does not verify: seq 9"},
		"a request served empty":         {func(r *rolling) { r.entries[22].Tokens = 0 }, "request #23 of acme (grpc) to  was answered completed with no content"},
		"a shed for draining by the router not in its turn": {func(r *rolling) {
			r.entries[16].Outcome, r.entries[16].Reason, r.entries[16].RetryAfter, r.entries[16].Endpoint = outcome.Shed, outcome.ReasonDraining, time.Second, "b"
		}, "request #17 (http) to b was shed for draining at"},
		"a shed for draining before any turn": {func(r *rolling) {
			r.entries[2].Outcome, r.entries[2].Reason, r.entries[2].RetryAfter, r.entries[2].Endpoint = outcome.Shed, outcome.ReasonDraining, time.Second, "a"
		}, "when that router was not taking its turn"},
		// router.drain_notice 0s: the router closes as soon as nothing is in flight, and the
		// balancer's next probe finds no one there. The restarted router's 503 while it starts
		// is no notice: it came after the stop returned.
		"a router gone without notice": {func(r *rolling) {
			r.changes = withChanges(*r, "b", seen("b", 42, false, false), seen("b", 54, false, true), seen("b", 56, true, true))
		}, "router router-2 stopped answering its /healthz (probe at 01:00:03.680, 180ms after it was asked to stop) without first answering not ready"},
		// router.drain_notice 0s with work in flight: the router answers 503 while that work
		// ends (one probe), then closes; a balancer waiting for a second failed probe never saw.
		"a router gone after one probe's notice": {func(r *rolling) {
			r.changes = withChanges(*r, "b", seen("b", 42, false, true), seen("b", 43, false, false), seen("b", 56, true, true))
		}, "router router-2 stopped answering its /healthz (probe at 01:00:03.780, 280ms after it was asked to stop) having answered not ready to 1 probe(s) only, under 2"},
		// The departure needs no load: a thin turn of the other router does not hide it.
		"a router gone without notice beside a turn with no load": {func(r *rolling) {
			r.changes = withChanges(*r, "a", seen("a", 17, false, false), seen("a", 31, true, true))
			r.steps[1].start, r.steps[1].back = at(4195), at(4199)
		}, "router router-1 stopped answering its /healthz"},
		// A router whose restart failed is still judged on how it left: the stop had worked.
		"a router gone without notice whose restart failed": {func(r *rolling) {
			r.changes = withChanges(*r, "b", seen("b", 42, false, false))
			r.steps[1].problem, r.steps[1].back = "starting router router-2 again: not ready in 15s", time.Time{}
		}, "router router-2 stopped answering its /healthz"},
		// A router whose turn never ended (not ready again) is still judged on how it left.
		"a router gone without notice that never came back": {func(r *rolling) {
			r.changes = withChanges(*r, "b", seen("b", 42, false, false))
			r.steps[1].back = time.Time{}
		}, "without first answering not ready"},
		"a shed for draining after the router was back": {func(r *rolling) {
			r.entries[28].Outcome, r.entries[28].Reason, r.entries[28].Endpoint = outcome.Shed, outcome.ReasonDraining, "a:9090"
		}, "request #29 (http) to a:9090 was shed for draining at 01:00:02.800, when that router was not taking its turn"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := rollRun()
			c.change(&r)
			expectVerdict(t, judgeRolling(r), scenario.Fail, c.want)
		})
	}
}

// Probes that went unanswered before the notice or inside it (a slow answer while the machine is
// busy, not a closed port: the router answered again before its stop returned) are neither its
// departure nor notice, and the notice around them still counts.
func TestRollingPassesSlowProbesAroundTheNotice(t *testing.T) {
	cases := map[string][]driver.Change{
		"three slow probes before the notice": {seen("a", 14, false, false), seen("a", 17, false, true), seen("a", 23, false, false), seen("a", 31, true, true)},
		"three slow probes inside the notice": {seen("a", 17, false, true), seen("a", 18, false, false), seen("a", 21, false, true), seen("a", 23, false, false), seen("a", 31, true, true)},
		"a notice of exactly two probes":      {seen("a", 21, false, true), seen("a", 23, false, false), seen("a", 31, true, true)},
	}
	for name, cs := range cases {
		t.Run(name, func(t *testing.T) {
			r := rollRun()
			r.changes = withChanges(r, "a", cs...)
			expectVerdict(t, judgeRolling(r), scenario.Pass, "2 routers restarted in turn")
		})
	}
}

// A router restarted faster than the balancer probes never goes unanswered: there is no
// departure to judge, and its 503 is not notice it owed.
func TestDepartedNeedsAnUnansweredProbeAfterTheStop(t *testing.T) {
	r := rollRun()
	cs := withChanges(r, "a", seen("a", 17, false, true), seen("a", 31, true, true))
	if d, ok := departed(cs, "a", at(1000), at(1700)); ok {
		t.Errorf("departed = %+v, want none", d)
	}
	// Router b's history, interleaved with a's, changes nothing of a's departure.
	if d, ok := departed(r.changes, "a", at(1000), at(1700)); !ok || d.noticeProbes != 6 || d.gone.Probe != 23 {
		t.Errorf("departed = %+v, %v; want probe 23 after 6 probes of notice", d, ok)
	}
	// A router already silent before it was asked to stop did not depart in its turn then.
	silent := withChanges(r, "a", seen("a", 10, false, false), seen("a", 31, true, true))
	if d, ok := departed(silent, "a", at(1000), at(1700)); ok {
		t.Errorf("departed = %+v for a router silent since before its turn, want none", d)
	}
}

func TestRollingIsInvalidWithoutItsPreconditions(t *testing.T) {
	cases := map[string]struct {
		change func(*rolling)
		want   string
	}{
		"a stop the balancer never saw": {func(r *rolling) {
			r.changes = slices.DeleteFunc(r.changes, func(c driver.Change) bool { return c.Base == "b" && !c.Ready })
		}, "never saw router router-2 not ready during its turn"},
		"a stop that failed":         {func(r *rolling) { r.steps[0].problem = "stopping it: no such container" }, "router router-1: stopping it"},
		"a router that took no turn": {func(r *rolling) { r.steps = r.steps[:1] }, "1 of 2 routers took their turn"},
		"no load while a router was away": {func(r *rolling) {
			r.changes = withChanges(*r, "a", driver.Change{Base: "a", Answered: true, Probe: 17, At: at(1080)}, seen("a", 23, false, false), seen("a", 31, true, true))
			r.steps[0].start, r.steps[0].back = at(1075), at(1085)
		}, "0 requests were sent while router router-1 was draining or away"},
		"a wire with one request while routers were away": {func(r *rolling) {
			kept := 0
			for i, e := range r.entries {
				if e.Path == viaGRPCStream && ((!e.Start.Before(at(1000)) && !e.Start.After(at(2500))) || (!e.Start.Before(at(3500)) && !e.Start.After(at(5000)))) {
					if kept++; kept > 1 {
						r.entries[i].Path = viaHTTP
					}
				}
			}
		}, "fewer than 2 requests over grpc-stream were sent while routers were draining or away"},
		"no router ready for a while": {func(r *rolling) {
			r.changes = append(r.changes, driver.Change{Base: "b", Ready: false, At: at(2000)}, driver.Change{Base: "b", Ready: true, At: at(2300)})
		}, "no router reported ready for 300ms"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := rollRun()
			r.entries[20].Error = "connection refused" // a run that would fail is still INVALID first
			c.change(&r)
			expectVerdict(t, judgeRolling(r), scenario.Invalid, c.want)
		})
	}
}

// TestNoneReadyFindsEveryGap: gaps at the start (before any router answered), in the middle and
// at the end are all found, and overlapping absences of different routers are not.
func TestNoneReadyFindsEveryGap(t *testing.T) {
	bases := []string{"a", "b"}
	changes := []driver.Change{
		{Base: "a", Ready: true, At: at(100)},
		{Base: "b", Ready: true, At: at(150)},
		{Base: "a", Ready: false, At: at(200)},
		{Base: "b", Ready: false, At: at(300)},
		{Base: "a", Ready: true, At: at(400)},
		{Base: "a", Ready: false, At: at(900)},
	}
	gaps := noneReady(changes, bases, t0, at(1000))
	want := [][2]int{{0, 100}, {300, 400}, {900, 1000}}
	if len(gaps) != len(want) {
		t.Fatalf("gaps %v, want %v", gaps, want)
	}
	for i, g := range gaps {
		if !g.Start.Equal(at(want[i][0])) || !g.End.Equal(at(want[i][1])) {
			t.Errorf("gap %d: %s..%s, want %dms..%dms", i, g.Start.Sub(t0), g.End.Sub(t0), want[i][0], want[i][1])
		}
	}
	if gaps := noneReady(changes[:3], bases, at(160), at(800)); len(gaps) != 0 {
		t.Errorf("with b ready throughout: gaps %v", gaps)
	}
}

// TestRoomyTenantsLeavesOutSmallQuotas: a tenant whose quota the rolling load's share would come
// near is left out (the spec then allows no quota refusal), and the others' shares grow with it.
func TestRoomyTenantsLeavesOutSmallQuotas(t *testing.T) {
	big := target.Quota{RequestsPerMinute: 60000, MaxConcurrency: 256}
	small := target.Quota{RequestsPerMinute: 600, MaxConcurrency: 16}
	tenants := []target.Tenant{{Name: "acme", Quota: big}, {Name: "globex", Quota: big}, {Name: "initech", Quota: small}}
	got := roomyTenants(tenants, 30)
	if len(got) != 2 || got[0].Name != "acme" || got[1].Name != "globex" {
		t.Fatalf("roomy tenants at 30/s: %v, want acme and globex", got)
	}
	if got := roomyTenants(tenants, 3); len(got) != 3 {
		t.Fatalf("at 3/s every quota carries its share four times, got %d tenants", len(got))
	}
	if got := roomyTenants([]target.Tenant{{Name: "initech", Quota: small}}, 30); got != nil {
		t.Fatalf("no tenant fits, got %v", got)
	}
}
