package suites

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// The noisy-neighbour run: tenant A floods the first traffic class at overloadFactor times the
// declared capacity from its own quota for floodLead+fairDuration, while tenant B, well inside its
// own quota, probes the same class at probeRate for fairDuration; both alternate HTTP and gRPC. B is
// judged as ADM-4 judges a protected class (its TTFT p90 at a 95 % upper bound against the
// class's objective) and must be served: a refusal of B that is not for its own quota or
// concurrency is A's flood taking B's capacity. The whole run takes about floodLead +
// fairDuration + the class's slowest outcome, within the spec's budget of 8 s.
const (
	fairDuration = 2500 * time.Millisecond
	// minFairServed is the share of B's probes that must be served.
	minFairServed = 0.99
)

var _ = Describe("Tenant isolation", func() {
	It("keeps a quiet tenant served and within its objective while another floods its class", Req("ADM-7"), func(ctx SpecContext) {
		t := env.Target
		k := t.TrafficClasses[0]
		rate := overloadFactor * t.Capacity.RequestsPerSecond
		a, b, ok := noisyPair(classTenants(k.Name), rate, t.Capacity.Concurrency+k.QueueBound)
		if !ok {
			invalid("no two tenants of class %s have the quota for one to flood it at %.0f req/s alone while the other probes it", k.Name, rate)
			return
		}
		if env.GRPC == nil {
			notProbed("grpc", "the target declares no gRPC endpoint")
		}
		floodDone := make(chan struct{})
		var flood *loadRun
		rf := rng(31)
		go func() {
			defer close(floodDone)
			// A floods over both doors, as B probes: a door whose fair queue is keyed by something
			// other than the tenant (a gRPC connection A and B share) would starve B only there.
			flood = openLoop(ctx, "noisy-flood", env.Seed+31, rate, floodLead+fairDuration, func(i int) request {
				return request{key: a.Key, class: k.Name, body: probe(prompt(rf, 8), t.Capacity.ProbeMaxTokens, false), grpc: i%2 == 1 && env.GRPC != nil}
			})
		}()
		// As in ADM-4, the probes start once the flood has had floodLead to fill the runtime.
		time.Sleep(floodLead)
		samples := quietProbes(ctx, b, k, fairDuration)
		<-floodDone

		if judgeNoisyFlood(t, k, a, flood) {
			judgeQuietTenant(k, a, b, samples)
		}
	}, SpecTimeout(time.Minute))
})

// noisyPair picks the flooding tenant A, whose quota alone carries rate and inFlight, and a quiet
// tenant B whose quota carries probeRate with headroom.
func noisyPair(ts []target.Tenant, rate float64, inFlight int) (a, b target.Tenant, ok bool) {
	ts = slices.Clone(ts)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Quota.Requests() > ts[j].Quota.Requests() })
	if len(ts) < 2 {
		return a, b, false
	}
	a, b = ts[0], ts[1]
	carries := func(t target.Tenant, rate float64, conc int) bool {
		return float64(t.Quota.Requests())/60 >= quotaHeadroom*rate && t.Quota.Concurrency() >= conc
	}
	return a, b, carries(a, rate, inFlight) && carries(b, probeRate, 1)
}

// quietProbes sends B's Poisson probes at probeRate for d, even ones over HTTP and odd ones over
// gRPC (all HTTP without a gRPC endpoint), each a short stream, and returns every probe's
// entry, its Path viaHTTP or viaGRPC as the catalogue names ADM-7's paths.
func quietProbes(ctx context.Context, b target.Tenant, k target.TrafficClass, d time.Duration) []chaosledger.Entry {
	var l chaosledger.Ledger
	rp := rng(32)
	var picking sync.Mutex
	traffic.OpenLoop(ctx, traffic.Profile{Name: "quiet-probes", Rate: probeRate, Duration: d, Seed: env.Seed + 32},
		func(ctx context.Context, i int, _ time.Time) {
			picking.Lock()
			text := prompt(rp, 8)
			picking.Unlock()
			var e chaosledger.Entry
			if i%2 == 1 && env.GRPC != nil {
				res, err := env.GRPC.Complete(ctx, b.Key, &arcertv1.CompleteRequest{Model: model().Name,
					Messages: []*arcertv1.ChatMessage{{Role: "user", Content: text}}, MaxTokens: probeTokens, TrafficClass: k.Name})
				e = entryOfGRPC(b, res, err)
				e.TTFT, e.Path = res.TTFT, viaGRPC
			} else {
				res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: b.Key,
					Body: probe(text, probeTokens, true), Header: http.Header{outcome.HeaderTrafficClass: {k.Name}}})
				e = entryOf(b, res, err)
				e.Path = viaHTTP
			}
			e.Seq, e.Class = i+1, k.Name
			l.Record(e)
		})
	return l.Entries()
}
