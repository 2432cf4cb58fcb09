package suites

import (
	"context"
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
	"github.com/aruntime/arcert/conformance/target"
)

// Pace of the rolling restart: how often the balancer probes each router's /healthz, and how
// long load runs before the first router goes, between one router's return and the next one's
// stop (so the balancer spreads over both again) and after the last.
const (
	readyPoll   = 100 * time.Millisecond
	rollSettle  = time.Second
	rollingLead = faultLead
	rollingTail = faultTail
)

// routerStopper is env.Nodes as a deployment that can stop routers gracefully, and the routers;
// why says what is missing when the spec cannot run.
func routerStopper() (s fault.Stopper, routers []string, why string) {
	if env.Nodes == nil {
		return nil, nil, "the harness controls no part of this runtime"
	}
	routers = env.Nodes.Parts(routerRole)
	if len(routers) < 2 {
		return nil, nil, fmt.Sprintf("the deployment has %d router parts; a rolling restart needs at least 2", len(routers))
	}
	s, ok := env.Nodes.(fault.Stopper)
	if !ok {
		return nil, nil, "the harness cannot stop this deployment's parts gracefully"
	}
	if n := len(env.HTTP.Endpoints()); n != len(routers) {
		return nil, nil, fmt.Sprintf("the target lists %d HTTP endpoints for %d router parts: which endpoint is which router is unknown", n, len(routers))
	}
	if env.GRPC != nil && len(env.GRPC.Endpoints()) != len(routers) {
		return nil, nil, fmt.Sprintf("the target lists %d gRPC endpoints for %d router parts", len(env.GRPC.Endpoints()), len(routers))
	}
	return s, routers, ""
}

// balanced is env's clients as a load balancer in front of the routers uses them: each request
// goes only to a router whose /healthz last answered 200 and, over gRPC, whose connection is up
// (a gRPC balancer health-checks over the connection it sends on). The i-th gRPC address is the
// i-th router's, as the target's deployment section says of its endpoints.
func balanced(watch *driver.Readiness) (*driver.Client, *grpcdriver.Client) {
	bases := env.HTTP.Endpoints()
	h := env.HTTP.OnlyReady(watch.Ready)
	if env.GRPC == nil {
		return h, nil
	}
	addrs := env.GRPC.Endpoints()
	g := env.GRPC.OnlyReady(func(addr string) bool {
		i := slices.Index(addrs, addr)
		return i >= 0 && watch.Ready(bases[i]) && env.GRPC.Connected(addr)
	})
	return h, g
}

// rollOne stops router (its base URL base) gracefully, starts it again and waits until the
// balancer sees it ready. The restart is registered (holdFault) before the stop, so a failure
// anywhere brings the router back.
func rollOne(ctx context.Context, s fault.Stopper, watch *driver.Readiness, router, base, addr string) rollStep {
	step := rollStep{router: router, base: base, addr: addr, start: time.Now()}
	heal := holdFault(func() error {
		if err := env.Nodes.Restart(context.WithoutCancel(ctx), routerRole, router); err != nil {
			return fmt.Errorf("starting router %s again: %w", router, err)
		}
		return nil
	})
	if err := s.Stop(ctx, routerRole, router); err != nil {
		step.problem = fmt.Sprintf("stopping it: %v", err)
		_ = heal()
		return step
	}
	step.stopped = time.Now()
	if err := heal(); err != nil {
		step.problem = err.Error()
		return step
	}
	rctx, cancel := context.WithTimeout(ctx, recoveryTime())
	defer cancel()
	if watch.AwaitReady(rctx, base) == nil {
		step.back = time.Now()
	}
	recordWindow(fault.Window{Fault: fault.Fault{Kind: fault.Stop}, Role: routerRole, Name: router, Start: step.start, End: time.Now()})
	return step
}

var _ = Describe("Rolling restart", Serial, Label("fault:router"), func() {
	It("loses nothing while every router is stopped gracefully and started again in turn", Req("FLT-4"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		stopper, routers, why := routerStopper()
		if why != "" {
			inconclusive("%s", why)
			return
		}
		Expect(env.Target.Operator).NotTo(BeNil(), "the evidence is read through the operator's listing")
		bases := env.HTTP.Endpoints()
		watch := driver.WatchReadiness(nil, bases, readyPoll)
		DeferCleanup(watch.Stop)
		for _, b := range bases {
			rctx, cancel := context.WithTimeout(ctx, recoveryTime())
			err := watch.AwaitReady(rctx, b)
			cancel()
			Expect(err).NotTo(HaveOccurred(), "router %s did not report ready (/healthz 200) within %s before the restart", b, recoveryTime())
		}
		awaitSteady(ctx)
		h, g := balanced(watch)
		tenants := roomyTenants(env.Target.Tenants, faultRate())
		if len(tenants) == 0 {
			invalid("no tenant's declared quota carries its share of %.0f requests/s with room for one router carrying it alone (a quota refusal would then be the load's, not the restart's)", faultRate())
			return
		}
		load := rollingLoad{rate: faultRate(), stream: 431, pick: rotate(tenants, 6, nil),
			send: func(ctx context.Context, rq loadReq) chaosledger.Entry { return sendThrough(ctx, h, g, rq) }}
		from := time.Now()
		stop := load.start(ctx)
		var steps []rollStep
		sleepCtx(ctx, rollingLead)
		var addrs []string
		if env.GRPC != nil {
			addrs = env.GRPC.Endpoints()
		}
		for i, r := range routers {
			addr := ""
			if i < len(addrs) {
				addr = addrs[i]
			}
			step := rollOne(ctx, stopper, watch, r, bases[i], addr)
			steps = append(steps, step)
			if step.problem != "" || step.back.IsZero() {
				break
			}
			sleepCtx(ctx, rollSettle)
		}
		sleepCtx(ctx, rollingTail)
		entries := stop()
		to := time.Now()
		ids := answeredIDs(entries)
		run := rolling{entries: entries, steps: steps, want: len(routers), bases: bases, changes: watch.Changes(), from: from, to: to,
			chain: settledChain(ctx, env.Target.Operator.Key, ids, recoveryTime()), paths: faultPaths(), grace: deadlineGrace, poll: readyPoll}
		for _, s := range steps {
			evidence("%s", run.departureWords(s))
		}
		verdict := judgeRolling(run)
		if verdict.Verdict == scenario.Fail {
			judgeThat(false, "%s", verdict.Message)
		}
		if !gate(verdict) {
			return
		}
		for p, n := range byPath(entries) {
			judged(p, n)
		}
		if n := drainedSheds(entries); n > 0 {
			judged("refusal", n)
		} else {
			notProbed("refusal", "no request reached a draining router: the balancer kept every request off them")
		}
		judged("evidence", len(ids))
		explainPaths(viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream)
		evidence("%s (%s)", verdict.Message, pathsText(entries))
	}, SpecTimeout(4*time.Minute))
})

// roomyConcurrency is the least concurrency limit roomyTenants accepts: a tenant's share of a
// fault run has a few requests in flight, more while a router is away and calls slow down.
const roomyConcurrency = 8

// roomyTenants are the tenants whose declared quotas carry their share of rate four times over
// (and whose concurrency limit is at least roomyConcurrency): while one router is away the other
// carries all the load, and a runtime that divides each quota among its routers may hold a router
// to half of it until it sees its peer gone. The specs that load only these tenants (FLT-4's
// rolling restart, DUR-4's node loss, DUR-5's partition) then allow no quota or concurrency
// refusal at all, so a refusal they meet is the fault's doing. Each tenant's share is the rate
// divided among the tenants returned: a caller that loads fewer of them checks those again.
func roomyTenants(tenants []target.Tenant, rate float64) []target.Tenant {
	for len(tenants) > 0 {
		share := rate / float64(len(tenants))
		var fit []target.Tenant
		for _, t := range tenants {
			q := t.Quota
			if q.RequestsPerMinute > 0 && float64(q.RequestsPerMinute)/60 < 4*share {
				continue
			}
			if q.MaxConcurrency > 0 && q.MaxConcurrency < roomyConcurrency {
				continue
			}
			fit = append(fit, t)
		}
		if len(fit) == len(tenants) {
			return fit
		}
		// Fewer tenants carry a larger share each: check those again at that share.
		tenants = fit
	}
	return nil
}
