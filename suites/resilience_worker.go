package suites

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
)

// workerKill is the fault kind recorded for a killed part.
const workerKill fault.Kind = "kill"

// Stream sizes of the mid-stream loss spec: long enough that the stream is still running when
// its worker goes.
const (
	midStreamTokens = 256
	// midStreamAfter is how many tokens the stream has sent when its worker is lost.
	midStreamAfter = 8
	// servedAfterLoss is the share of requests started after detection that the remaining
	// workers must serve.
	servedAfterLoss = 0.95
)

// loseWorkers takes the workers behind the given parts of a region away: killed when the harness
// controls the runtime's parts, else cut off by downing their links (a lost host, as the router
// sees it). It returns what brings them back, which also records the fault's window; each worker
// is registered as it goes (holdFault), so a cleanup brings back whatever a failure left away.
func loseWorkers(ctx context.Context, region string, parts ...string) func() error {
	var heals []func() error
	if env.Nodes == nil {
		for _, p := range parts {
			heals = append(heals, injectPart(region, p))
		}
	} else {
		w := fault.Window{Fault: fault.Fault{Kind: workerKill}, Role: "worker", Name: region, Start: time.Now()}
		for _, p := range parts {
			Expect(env.Nodes.Kill(ctx, "worker", p)).To(Succeed(), "killing worker %s", p)
			heals = append(heals, holdFault(func() error {
				if err := env.Nodes.Restart(context.WithoutCancel(ctx), "worker", p); err != nil {
					return fmt.Errorf("restarting worker %s: %w", p, err)
				}
				w.End, w.Part = time.Now(), p
				recordWindow(w)
				return nil
			}))
		}
	}
	return func() error {
		var errs []error
		for _, h := range heals {
			errs = append(errs, h())
		}
		return errors.Join(errs...)
	}
}

// injectPart cuts the link to one worker of region and returns what heals it.
func injectPart(region, part string) func() error {
	a, err := env.Chaos.InjectPart(link.RoleRegion, region, part, fault.Fault{Kind: fault.Down})
	Expect(err).NotTo(HaveOccurred(), "cutting worker %s off", part)
	return holdFault(func() error {
		if err := a.Heal(); err != nil {
			return err
		}
		recordWindow(a.Window())
		return nil
	})
}

// workersToLose returns the primary region and its workers when at least need of them stand behind
// declared links; otherwise it records INCONCLUSIVE (losing what would leave nobody to serve
// proves nothing about what serves meanwhile) and returns ok false.
func workersToLose(need int, what string) (region string, parts []string, ok bool) {
	region, parts = primaryWorkers()
	if len(parts) < need {
		inconclusive("the primary region %q has %d workers behind declared links; %s needs %d", region, len(parts), what, need)
		return region, parts, false
	}
	return region, parts, true
}

// primaryWorkers returns the primary region and the parts (workers) behind its links.
func primaryWorkers() (string, []string) {
	plan, err := planRegions()
	region := ""
	if err == nil {
		region = plan.primary.Name
	} else if len(env.Target.Regions) > 0 {
		region = env.Target.Regions[0].Name
	}
	// Prefill-only workers serve no request of their own: losing one is no worker loss a client
	// could see, so they are left out.
	var v discovery.Versions
	status, _, err := env.HTTP.GetJSON(context.Background(), discovery.PathVersions, tenantA().Key, &v)
	prefill := map[string]bool{}
	if err == nil && status == http.StatusOK {
		for _, w := range v.Workers {
			// A worker that reports its artifacts and none of the probed model (an autoscaled
			// group's own model, say) serves none of the probes either: left out too.
			prefill[w.Worker] = w.Role == "prefill" || servesOthersOnly(w, model().Name)
		}
	}
	// Only workers the target names behind a link: a client sees workers by these names in
	// ARuntime-Served-By, which is how their loss is judged.
	declared := map[string]bool{}
	for _, d := range env.Target.Dependencies {
		if d.Role == link.RoleRegion && d.Name == region && d.Part != "" {
			declared[d.Part] = true
		}
	}
	var parts []string
	for _, l := range env.Chaos.Select(link.RoleRegion, region) {
		if declared[l.Part] && !prefill[l.Part] {
			parts = append(parts, l.Part)
		}
	}
	return region, parts
}

var _ = Describe("Worker loss", Serial, Label("fault:worker"), func() {
	It("leaves every request one outcome and the remaining workers serving, on every wire", Req("FLT-2"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		region, parts, ok := workersToLose(2, "losing one while another serves")
		if !ok {
			return
		}
		victim := parts[0]
		rr := faultRun{name: "worker-loss", stream: 351, pick: rotate([]target.Tenant{tenantA(), tenantB()}, 6, nil),
			inject: func(ctx context.Context) func() error { return loseWorkers(ctx, region, victim) }}.run(ctx)
		if !steadyBefore(rr) {
			return
		}
		expectEveryRequestEnded(ctx, rr)
		if !expectServedByOthers(rr, victim) {
			return
		}
		for p, n := range byPath(rr.settled()) {
			judgedFor("FLT-2", p, n)
		}
		explainPaths(viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream)
		expectRecovery(ctx, rr, tenantA())
		evidence("%s lost for %s; the other workers served what came after detection (%s)", victim, holdFor(), pathsText(rr.settled()))
	}, SpecTimeout(2*time.Minute))

	It("moves the work a lost worker had not started answering", Req("FLT-2"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		region, parts, ok := workersToLose(2, "losing one while another serves")
		if !ok {
			return
		}
		expectUnstartedWorkMoved(ctx, region, parts[0])
	}, SpecTimeout(time.Minute))

	// Each wire loses its own worker and waits for it to come back: in containers a restart is a
	// real `docker restart` the router must see healthy again, so two of them need more than the
	// minute one worker-loss spec gets.
	It("ends a stream whose worker is lost with a failed outcome, over HTTP and gRPC, and runs no cut stream again", Req("OUT-7"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		region, parts, ok := workersToLose(1, "a stream losing its worker")
		if !ok {
			return
		}
		for _, via := range []string{viaHTTPStream, viaGRPCStream} {
			if !slices.Contains(faultPaths(), via) {
				explainPaths(via)
				continue
			}
			if !expectStreamCutFails(ctx, via, region, parts) {
				return
			}
			if len(parts) > 1 && !expectOneLossCutsOnlyItsStreams(ctx, via, region, parts) {
				return
			}
		}
	}, SpecTimeout(streamLossTimeout))
})
