package suites

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
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
	// deadlineGrace is how far past its deadline a request may end before it counts as hung:
	// network and scheduling slack on two shared cores.
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
}

// faultRun is steady load with one fault in the middle.
type faultRun struct {
	name   string
	stream uint64 // the seeded random stream of the run's prompts and arrivals
	rate   float64
	pick   func(r *rand.Rand, i int) loadReq
	// inject puts the fault in force and returns what heals it.
	inject func(ctx context.Context) (heal func())
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

// run sends seeded open-loop load for lead+hold+tail and injects the fault after lead. The fault
// is healed after hold, and again (idempotently) by a cleanup if the spec fails first.
func (fr faultRun) run(ctx context.Context) runResult {
	rate := fr.rate
	if rate == 0 {
		rate = faultRate
	}
	var (
		l      chaosledger.Ledger
		window chaosledger.Window
		wg     sync.WaitGroup
		mu     sync.Mutex
		heal   func()
	)
	awaitSteady(ctx)
	r := rng(fr.stream)
	var pickMu sync.Mutex
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer GinkgoRecover()
		if !sleepCtx(ctx, faultLead) {
			return
		}
		mu.Lock()
		window.Start = time.Now()
		healOnce := fr.inject(ctx)
		var once sync.Once
		heal = func() { once.Do(healOnce) }
		mu.Unlock()
		sleepCtx(ctx, faultHold)
		mu.Lock()
		window.End = time.Now() // healing starts: what a restart serves from here on is recovery
		heal()
		mu.Unlock()
	}()
	DeferCleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if heal != nil {
			heal()
		}
	})
	stats := traffic.OpenLoop(ctx, traffic.Profile{Name: fr.name, Rate: rate, Duration: faultLead + faultHold + faultTail, Seed: env.Seed + int64(fr.stream)},
		func(ctx context.Context, i int, _ time.Time) {
			pickMu.Lock()
			rq := fr.pick(r, i)
			pickMu.Unlock()
			res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: rq.tenant.Key, Body: rq.body, Header: rq.hdr})
			l.Record(entryOf(rq.tenant, res, err))
		})
	Expect(stats.Err).NotTo(HaveOccurred(), "load run %s", fr.name)
	wg.Wait()
	Expect(window.End).NotTo(BeZero(), "the fault of %s never ran its course", fr.name)
	return runResult{entries: l.Entries(), window: window}
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
	e := chaosledger.Entry{Tenant: t.Name, Start: res.Start, End: res.Start.Add(res.Latency), Deadline: tenantDeadline(t),
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
		invalid("no steady state before the fault: %d requests, %d served (need %d, %.0f%% served): %v", len(before), served, minBefore, 100*steadyServed, chaosledger.Counts(before))
		return false
	}
	return true
}

// expectEveryRequestEnded is FLT-1's core: every request of the run stated exactly one outcome
// of the contract in time, and every indeterminate one resolves against the runtime's evidence
// as recovered (one record), never lost or duplicated.
func expectEveryRequestEnded(ctx context.Context, rr runResult) {
	Expect(chaosledger.OneTerminalOutcome(rr.entries)).To(BeEmpty(), "requests without exactly one outcome of the contract")
	hung := chaosledger.NoneHung(rr.entries, func(e chaosledger.Entry) bool { return e.Latency() <= e.Deadline+deadlineGrace })
	Expect(hung).To(BeEmpty(), "requests that outlived their deadline")
	var indeterminate int
	for _, e := range rr.entries {
		if e.Indeterminate {
			indeterminate++
		}
	}
	if indeterminate > 0 {
		Expect(env.Target.Operator).NotTo(BeNil(), "%d indeterminate requests, and no operator credential to reconcile them", indeterminate)
		res := chaosledger.Reconcile(rr.entries, func(id string) int { return len(evidenceNow(ctx, env.Target.Operator.Key, id)) })
		for _, r := range res {
			Expect(r.Resolution).To(Equal(chaosledger.Recovered), "request #%d (%s) is %s after healing (%d records)", r.Entry.Seq, r.Entry.RequestID, r.Resolution, r.Records)
		}
	}
	evidence("%d requests: %v", len(rr.entries), chaosledger.Counts(rr.entries))
}

// expectRecovery waits until t is served again, within the declared recovery time after the
// fault healed, and records how long it took.
func expectRecovery(ctx context.Context, rr runResult, t target.Tenant) {
	var took time.Duration
	Eventually(func() bool {
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: t.Key, Body: probe("recovery probe", 2, false)})
		took = time.Since(rr.window.End)
		return err == nil && (res.Outcome == "completed")
	}).WithContext(ctx).WithTimeout(recoveryTime()).WithPolling(100*time.Millisecond).
		Should(BeTrue(), "%s not back to completed within the declared recovery of %s", t.Name, recoveryTime())
	evidence("%s completed again %s after healing (declared recovery %s)", t.Name, took.Round(time.Millisecond), recoveryTime())
}

// recordWindow puts a fault window in the report.
func recordWindow(w fault.Window) {
	raw, err := json.Marshal(w)
	Expect(err).NotTo(HaveOccurred())
	AddReportEntry(entryFault, string(raw), ReportEntryVisibilityNever)
}

// inject puts f on role (and name) and returns what heals it, recording the window in the report.
func inject(role, name string, f fault.Fault) func() {
	a, err := env.Chaos.Inject(role, name, f)
	Expect(err).NotTo(HaveOccurred(), "injecting %s on %s %s", f, role, name)
	return func() {
		Expect(a.Heal()).To(Succeed(), "healing %s on %s %s", f, role, name)
		recordWindow(a.Window())
	}
}

// noResidue is every resilience spec's last check: no fault of the engine outlived its spec, and
// no part of the runtime is left killed.
func noResidue(ctx context.Context) {
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

// errNoTenant explains a target whose tenants do not let a spec be judged.
var errNoTenant = errors.New("no declared tenant fits")

// tenantWhere returns the first tenant for which keep holds.
func tenantWhere(what string, keep func(target.Tenant) bool) (target.Tenant, error) {
	for _, t := range env.Target.Tenants {
		if keep(t) {
			return t, nil
		}
	}
	return target.Tenant{}, fmt.Errorf("%w: %s", errNoTenant, what)
}

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
