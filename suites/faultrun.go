package suites

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// Timings of a fault run, named so no bare durations hide in the specs. A run is steady load for
// faultLead, the fault for faultHold, and load again for faultTail after healing.
const (
	faultLead = 1500 * time.Millisecond
	faultHold = 3 * time.Second
	faultTail = 1500 * time.Millisecond
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
	// hold, when set, is the least time the fault stays in force: a fault whose effect takes
	// long to show (a state-store election) needs more than the default.
	hold time.Duration
	// send, when set, sends each request instead of pick and sendVia (a run that pins requests
	// to one router); it bounds the request itself.
	send func(ctx context.Context, req scenario.Request) chaosledger.Entry
}

// holdTime is how long the run's fault holds: fr.hold, holdFor(), or long enough past the
// declared detection for every tenant's minSettled requests at rate, whichever is longest.
func (fr faultRun) holdTime(rate float64) time.Duration {
	settle := time.Duration(leadSlack * float64(minSettled*len(env.Target.Tenants)) / rate * float64(time.Second))
	return max(fr.hold, holdFor(), detection()+settle)
}

// runResult is a fault run's ledger and the fault's window.
type runResult struct {
	entries []chaosledger.Entry
	window  chaosledger.Window
}

// settled and inWindow split the entries around the fault window; settled leaves out
// the runtime's declared detection time, in which any contract outcome is fair.
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

// run plays the fault run on chaos/scenario: the steady-state hypothesis (every tenant's probes
// served, several in a row, within the declared recovery time), then seeded open-loop load for
// lead+hold+tail with the fault in force over the hold. The engine registers the fault's heal the
// moment it is injected and rolls it back whatever happens (a failed assertion in the custom
// injection, a cancelled spec), then checks the fault server for residue; the spec's noResidue
// cleanup checks again. Every assertion on the result runs on the spec's goroutine.
func (fr faultRun) run(ctx context.Context) runResult {
	rate := fr.rate
	if rate == 0 {
		rate = faultRate()
	}
	Expect(rate).To(BeNumerically(">", 0), "the target declares no capacity.requests_per_second to size the fault run %s from", fr.name)
	// The lead phase carries at least minBefore requests with room to spare, and the hold, past the
	// runtime's detection time, minSettled requests of every tenant, however low the declared
	// capacity makes the rate.
	perSecond := func(n float64) time.Duration { return time.Duration(leadSlack * n / rate * float64(time.Second)) }
	lead := max(faultLead, perSecond(minBefore))
	hold := fr.holdTime(rate)
	load := []scenario.Load{{Tenant: rotatedTenants, Rate: rate}}
	plan := scenario.Plan{
		Name: fr.name, Seed: env.Seed + int64(fr.stream), Steady: steadyHypothesis(), Recovery: recoveryTime(), KeepEntries: true,
		Phases: []scenario.Phase{{Name: "lead", Duration: lead, Load: load}, {Name: "fault", Duration: hold, Load: load}, {Name: "tail", Duration: faultTail, Load: load}},
		Faults: []scenario.Fault{{Name: fr.name, At: lead, For: hold, Custom: func(context.Context) (func() error, error) {
			// The spec's context, not the engine's: the engine bounds the injection with a context
			// it cancels once the injection returns, and the heal inject returns reads the link
			// again later. A failed assertion in inject fails the spec and panics; the engine
			// recovers the panic, rolls back and records the run as errored.
			return fr.inject(ctx), nil
		}}},
	}
	senv := scenario.Env{Grace: deadlineGrace, Links: env.Chaos, Nodes: env.Nodes, Probe: steadyProbe,
		Send: func(ctx context.Context, req scenario.Request) chaosledger.Entry {
			if fr.send != nil {
				return fr.send(ctx, req)
			}
			// The request's generator is seeded from the run's seed and its sequence number alone,
			// so the same seed sends the same prompt as the same request in any goroutine order.
			rq := fr.pick(req.Rand, req.Seq-1)
			rctx, cancel := context.WithTimeout(ctx, tenantDeadline(rq.tenant)+deadlineGrace+hungMargin)
			defer cancel()
			return sendVia(rctx, rq)
		}}
	out := scenario.Run(ctx, plan, senv)
	Expect(out.SteadyBefore.Result.OK()).To(BeTrue(), "%s: the runtime is not at its steady state before the fault: %s", fr.name, out.SteadyBefore.Result.Message)
	Expect(out.Error).To(BeEmpty(), "fault run %s", fr.name)
	Expect(out.Abort).To(BeNil(), "fault run %s stopped early", fr.name)
	Expect(out.Faults).To(HaveLen(1), "the fault of %s never ran", fr.name)
	f := out.Faults[0]
	Expect(f.Error).To(BeEmpty(), "the fault of %s", fr.name)
	Expect(f.End).NotTo(BeZero(), "the fault of %s never ran its course", fr.name)
	Expect(out.Residue.OK()).To(BeTrue(), "after %s: %s", fr.name, out.Residue.Message)
	window := chaosledger.Window{Start: f.Start, End: f.End}
	plotFaultRun(fr.name, out.Entries, window)
	return runResult{entries: out.Entries, window: window}
}

// rotatedTenants names the one load of a fault run: each request's pick says which tenant sends it.
const rotatedTenants = "rotated"

// leadSlack is how many times the requests its gate needs a phase is sized to carry.
const leadSlack = 1.5

// faultShare is the share of the target's declared capacity a fault run offers, and
// faultRateCeiling what it never exceeds: enough load to judge the fault (30 req/s on the
// reference's 160), never so much that what the run sees is overload, or the harness's own limits.
const (
	faultShare       = 3.0 / 16
	faultRateCeiling = 60.0
)

// faultRate is the open-loop rate of a fault run, from the target's declared capacity.
func faultRate() float64 {
	return min(faultRateCeiling, faultShare*env.Target.Capacity.RequestsPerSecond)
}

// steadyHypothesis is the fault runs' steady state: every declared tenant's probes served,
// steadyProbes in a row, within the declared recovery time (an earlier spec's fault may still
// be healing).
func steadyHypothesis() scenario.Steady {
	// Only completed probes count: a runtime still rerouting after an earlier spec's fault is not steady.
	st := scenario.Steady{Probes: steadyProbes, Within: recoveryTime(), CompletedOnly: true}
	for _, t := range env.Target.Tenants {
		st.Tenants = append(st.Tenants, scenario.SteadyTenant{Tenant: t.Name})
	}
	return st
}

// steadyProbe is one steady-state probe of the named tenant.
func steadyProbe(ctx context.Context, tenant, _ string) chaosledger.Entry {
	for _, t := range env.Target.Tenants {
		if t.Name == tenant {
			res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: t.Key, Body: probe("steady state probe", 2, false)})
			return entryOf(t, res, err)
		}
	}
	return chaosledger.Entry{Tenant: tenant, Indeterminate: true}
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

// entryOf turns a driver result into a ledger entry, the one record of every run's requests. A
// transport error that left no response is indeterminate; so is a result the driver marked so.
func entryOf(t target.Tenant, res driver.Result, err error) chaosledger.Entry {
	e := chaosledger.Entry{Tenant: t.Name, Endpoint: res.Endpoint, Start: res.Start, End: res.Start.Add(res.Latency), TTFT: res.TTFT, ITL: res.ITL, Deadline: tenantDeadline(t),
		Status: res.Status, RetryAfter: res.RetryAfter, PromptTokens: res.Usage.PromptTokens, CompletionTokens: res.Usage.CompletionTokens,
		RequestID: res.RequestID, Outcome: res.Outcome, Reason: res.Reason, ServedBy: res.ServedBy,
		Indeterminate: res.Indeterminate || err != nil, Violations: res.ContractViolations, MidStream: res.MidStreamError, Tokens: res.Tokens}
	if err != nil {
		e.Error = errorWords(err)
	}
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
	return gate(scenario.SteadyBefore(rr.entries, rr.window.Start, minBefore, steadyServed))
}

// gate records a gate's verdict when it did not pass, and reports whether the spec can go on.
func gate(r scenario.Result) bool {
	switch r.Verdict {
	case scenario.Pass:
		return true
	case scenario.Inconclusive:
		inconclusive("%s", r.Message)
	default:
		invalid("%s", r.Message)
	}
	return false
}

// inject puts f on role (and name) and returns what heals it, which also records the fault's
// window in the report.
func inject(role link.Role, name string, f fault.Fault) func() error {
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
func needLinks(role link.Role, name string) bool {
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

// awaitSteady is the steady-state hypothesis for the specs that break something outside a fault
// run (a fault run's engine checks it itself): every declared tenant's probes served, several in a
// row, within the declared recovery time. A runtime that never gets there fails the spec.
func awaitSteady(ctx context.Context) {
	for _, t := range env.Target.Tenants {
		streak := 0
		Eventually(func() int {
			if steadyProbe(ctx, t.Name, "").Outcome == outcome.Completed {
				streak++
			} else {
				streak = 0
			}
			return streak
		}).WithContext(ctx).WithTimeout(recoveryTime()).WithPolling(50*time.Millisecond).
			Should(BeNumerically(">=", steadyProbes), "%s is not at its steady state", t.Name)
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
	names := make([]string, 0, len(tenants))
	for _, t := range tenants {
		names = append(names, t.Name)
	}
	return gate(scenario.SettledPerTenant(rr.entries, rr.window, detection(), names, minSettled))
}
