package suites

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// Timings of a fault run, named so no bare durations hide in the specs. A run is steady load for
// faultLead, the fault for faultHold, and load again for faultTail after healing.
const (
	faultLead = 1500 * time.Millisecond
	faultHold = 3 * time.Second
	faultTail = 1500 * time.Millisecond
	// faultRate is the open-loop rate of a fault run: a quarter of the dev runtime's declared
	// capacity, so what the run sees is the fault, not overload.
	faultRate = 30.0
	// minBefore is the validity gate on the steady state: at least this many requests before the
	// fault, nearly all served, or the run is INVALID.
	minBefore = 20
	// steadyServed is the share of lead-phase requests that must be served for a steady state.
	steadyServed = 0.95
	// deadlineGrace is the declared tolerance on time: how far past its deadline a request, or a
	// refusal, may end before it counts as late (hung): network and scheduling slack on two
	// shared cores.
	deadlineGrace = time.Second
	// defaultRecovery and defaultDetection apply when the target declares none.
	defaultRecovery  = 15 * time.Second
	defaultDetection = 2 * time.Second
)

// entryFault is the report entry through which a spec records a fault window.
const entryFault = "arcert.fault"

// loadReq is one request of a fault run.
type loadReq struct {
	tenant target.Tenant
	body   openai.CompletionRequest
	hdr    http.Header
	// via is the wire the request goes over (viaHTTP when empty); see resilience_paths.go.
	via string
}

// faultRun is steady load with one fault in the middle.
type faultRun struct {
	name   string
	stream uint64 // the seeded random stream of the run's prompts and arrivals
	rate   float64
	pick   func(r *rand.Rand, i int) loadReq
	// inject puts the fault in force and returns what heals it (see holdFault).
	inject func(ctx context.Context) (heal func() error)
}

// runResult is a fault run's ledger and the fault's window.
type runResult struct {
	entries []chaosledger.Entry
	window  chaosledger.Window
}

// before, settled and inWindow split the entries around the fault window; settled leaves out
// the runtime's declared detection time, in which any contract outcome is fair.
func (rr runResult) before() []chaosledger.Entry {
	// Only requests that ended before the cut: one in flight at the cut is the fault's to judge.
	return chaosledger.Where(rr.entries, func(e chaosledger.Entry) bool { return e.End.Before(rr.window.Start) })
}
func (rr runResult) settled() []chaosledger.Entry {
	return chaosledger.Started(rr.entries, chaosledger.Window{Start: rr.window.Start.Add(detection()), End: rr.window.End})
}
func (rr runResult) inWindow() []chaosledger.Entry { return chaosledger.Started(rr.entries, rr.window) }

// recoveryTime and detection are what the target declares, or the defaults.
func recoveryTime() time.Duration {
	if r := env.Target.Resilience; r != nil && r.Recovery > 0 {
		return r.Recovery
	}
	return defaultRecovery
}

func detection() time.Duration {
	if r := env.Target.Resilience; r != nil && r.Detection > 0 {
		return r.Detection
	}
	return defaultDetection
}

// run sends seeded open-loop load for lead+hold+tail and injects the fault after lead. The load
// runs in the background and records only; the fault's schedule, and every assertion, runs on
// the spec's goroutine. Each fault registers its undo as it is injected (see holdFault), so the
// spec's noResidue cleanup heals it even when an assertion fails midway.
func (fr faultRun) run(ctx context.Context) runResult {
	rate := fr.rate
	if rate == 0 {
		rate = faultRate
	}
	hold := holdFor()
	awaitSteady(ctx)
	var l chaosledger.Ledger
	loadDone := make(chan traffic.Stats, 1)
	go func() {
		profile := traffic.Profile{Name: fr.name, Rate: rate, Duration: faultLead + hold + faultTail, Seed: env.Seed + int64(fr.stream)}
		loadDone <- traffic.OpenLoop(ctx, profile, func(ctx context.Context, i int, _ time.Time) {
			// A generator per request: the same seed gives the same prompt to the same request,
			// whatever order the arrivals' goroutines run in.
			rq := fr.pick(rand.New(rand.NewPCG(uint64(env.Seed), fr.stream<<32|uint64(i))), i)
			rctx, cancel := context.WithTimeout(ctx, tenantDeadline(rq.tenant)+deadlineGrace+hungMargin)
			defer cancel()
			e := sendVia(rctx, rq)
			e.Seq = i + 1
			l.Record(e)
		})
	}()
	var window chaosledger.Window
	if sleepCtx(ctx, faultLead) {
		window.Start = time.Now() // a request ending after this may have met the fault
		heal := fr.inject(ctx)
		sleepCtx(ctx, hold)
		window.End = time.Now() // healing starts: what a restart serves from here on is recovery
		Expect(heal()).To(Succeed(), "healing the fault of %s", fr.name)
	}
	stats := <-loadDone
	Expect(stats.Err).NotTo(HaveOccurred(), "load run %s", fr.name)
	Expect(window.End).NotTo(BeZero(), "the fault of %s never ran its course", fr.name)
	plotFaultRun(fr.name, l.Entries(), window)
	return runResult{entries: l.Entries(), window: window}
}

// hungMargin is how far past its deadline and grace a request of a fault run is abandoned: it is
// then recorded as taking that long, which NoneHung names.
const hungMargin = time.Second

// settleWindow is how long a fault holds past the runtime's declared detection time, so that
// every judged tenant has requests in it (at faultRate, about 45).
const settleWindow = 1500 * time.Millisecond

// holdFor is how long a fault holds: faultHold, or longer when the runtime declares a detection
// time that would leave too little of the window to judge.
func holdFor() time.Duration { return max(faultHold, detection()+settleWindow) }

// faultsInForce are the undo functions of the current spec's faults that have not been undone;
// noResidue runs what is left. Specs run one at a time (the resilience specs are Serial), so
// one registry serves them all.
var faultsInForce struct {
	mu   sync.Mutex
	next int
	undo map[int]func() error
}

// holdFault registers undo and returns the heal to call: it undoes the fault and, once that
// succeeds, forgets it. A failed heal stays registered, so noResidue tries it again.
func holdFault(undo func() error) func() error {
	faultsInForce.mu.Lock()
	if faultsInForce.undo == nil {
		faultsInForce.undo = map[int]func() error{}
	}
	id := faultsInForce.next
	faultsInForce.next++
	faultsInForce.undo[id] = undo
	faultsInForce.mu.Unlock()
	return func() error { return release(id) }
}

// release undoes fault id if it is still in force and forgets it once that succeeded.
func release(id int) error {
	faultsInForce.mu.Lock()
	undo, ok := faultsInForce.undo[id]
	faultsInForce.mu.Unlock()
	if !ok {
		return nil // already healed
	}
	if err := undo(); err != nil {
		return err
	}
	faultsInForce.mu.Lock()
	delete(faultsInForce.undo, id)
	faultsInForce.mu.Unlock()
	return nil
}

// undoAll heals every registered fault still in force.
func undoAll() error {
	faultsInForce.mu.Lock()
	ids := slices.Collect(maps.Keys(faultsInForce.undo))
	faultsInForce.mu.Unlock()
	var errs []error
	for _, id := range ids {
		errs = append(errs, release(id))
	}
	return errors.Join(errs...)
}

// sleepCtx waits d or until ctx ends; it reports whether the whole d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// entryOf turns a driver result into a ledger entry. A transport error that left no response is
// indeterminate; so is a result the driver marked so.
func entryOf(t target.Tenant, res driver.Result, err error) chaosledger.Entry {
	e := chaosledger.Entry{Tenant: t.Name, Start: res.Start, End: res.Start.Add(res.Latency), TTFT: res.TTFT, Deadline: tenantDeadline(t),
		RequestID: res.RequestID, Outcome: res.Outcome, Reason: res.Reason, ServedBy: res.ServedBy,
		Indeterminate: res.Indeterminate || err != nil, Violations: res.ContractViolations, MidStream: res.MidStreamError, Tokens: res.Tokens}
	if e.Start.IsZero() {
		e.Start, e.End = time.Now(), time.Now()
	}
	return e
}

// tenantDeadline is the deadline of the tenant's first traffic class (its default).
func tenantDeadline(t target.Tenant) time.Duration {
	for _, name := range t.TrafficClasses {
		for _, c := range env.Target.TrafficClasses {
			if c.Name == name && c.Deadline > 0 {
				return c.Deadline
			}
		}
	}
	return time.Minute
}

// steadyBefore is the validity gate on the lead phase: enough requests, nearly all served. It
// records INVALID and returns false when the run cannot be judged.
func steadyBefore(rr runResult) bool {
	before := rr.before()
	served := len(chaosledger.Where(before, chaosledger.Entry.Served))
	if len(before) < minBefore || float64(served) < steadyServed*float64(len(before)) {
		invalid("no steady state before the fault: %d requests, %d served (need %d, %.0f%% served): %s", len(before), served, minBefore, 100*steadyServed, countsText(before))
		return false
	}
	return true
}

// recordWindow puts a fault window in the report.
func recordWindow(w fault.Window) {
	raw, err := json.Marshal(w)
	if err != nil {
		raw = []byte(fmt.Sprintf(`{"role":%q,"name":%q}`, w.Role, w.Name)) // a Window always marshals
	}
	AddReportEntry(entryFault, string(raw), ReportEntryVisibilityNever)
}

// inject puts f on role (and name) and returns what heals it, which also records the fault's
// window in the report.
func inject(role, name string, f fault.Fault) func() error {
	a, err := env.Chaos.Inject(role, name, f)
	Expect(err).NotTo(HaveOccurred(), "injecting %s on %s %s", f, role, name)
	return holdFault(func() error {
		if err := a.Heal(); err != nil {
			return fmt.Errorf("healing %s on %s %s: %w", f, role, name, err)
		}
		recordWindow(a.Window())
		return nil
	})
}

// noResidue is every resilience spec's last check: no fault of the engine outlived its spec, and
// no part of the runtime is left killed.
func noResidue(ctx context.Context) {
	Expect(undoAll()).To(Succeed(), "undoing the spec's faults")
	Expect(env.Chaos.HealAll()).To(Succeed())
	Expect(env.Chaos.Residue()).To(Succeed())
	if env.Nodes != nil {
		Expect(env.Nodes.Residue(ctx)).To(Succeed())
	}
}

// needLinks marks the spec INCONCLUSIVE when the target declares no link of role: there is
// nothing to cut. It reports whether the spec can go on.
func needLinks(role, name string) bool {
	if len(env.Chaos.Select(role, name)) == 0 {
		inconclusive("the target declares no %s dependency %q to cut", role, name)
		return false
	}
	return true
}

// errCannotPlan explains a target whose tenants, regions or dependencies give a spec nothing to
// judge: the spec is INCONCLUSIVE.
var errCannotPlan = errors.New("the target gives this spec nothing to judge")

// steadyProbes is how many probes in a row every tenant must have completed for the runtime to be
// at its steady state.
const steadyProbes = 3

// awaitSteady is the steady-state hypothesis checked before a fault: every declared tenant's
// probes complete, several in a row, within the declared recovery time (an earlier spec's fault
// may still be healing). A runtime that never gets there fails the spec.
func awaitSteady(ctx context.Context) {
	for _, t := range env.Target.Tenants {
		streak := 0
		Eventually(func() int {
			res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: t.Key, Body: probe("steady state probe", 2, false)})
			if err == nil && res.Outcome == "completed" {
				streak++
			} else {
				streak = 0
			}
			return streak
		}).WithContext(ctx).WithTimeout(recoveryTime()).WithPolling(50*time.Millisecond).
			Should(BeNumerically(">=", steadyProbes), "%s is not at its steady state before the fault", t.Name)
	}
}

// judgeable reports whether a fault run can be judged, recording why not: the plan failed
// (INCONCLUSIVE), no steady state before the fault, or too few requests of one of the judged
// tenants after the runtime's detection time (INVALID: the fault is not shown to hit them).
func judgeable(planErr error, rr runResult, tenants ...target.Tenant) bool {
	if planErr != nil {
		inconclusive("%v", planErr)
		return false
	}
	if !steadyBefore(rr) {
		return false
	}
	for _, t := range tenants {
		if n := len(chaosledger.Where(rr.settled(), func(e chaosledger.Entry) bool { return e.Tenant == t.Name })); n < minSettled {
			invalid("only %d requests of %s after detection in the fault window (need %d)", n, t.Name, minSettled)
			return false
		}
	}
	return true
}
