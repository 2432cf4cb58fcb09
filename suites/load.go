package suites

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// shot is one request of a load run as the ledger recorded it.
type shot struct {
	scheduled time.Time
	// class and key are what the request asked for and as whom, so a run that mixes traffic
	// classes or tenants can be judged per class and per tenant.
	class string
	key   string
	res   driver.Result
	err   error
}

// ledger records every request of a load run; checks run over it afterwards.
type ledger struct {
	mu    sync.Mutex
	shots []shot
	stats traffic.Stats
}

func (l *ledger) add(s shot) {
	l.mu.Lock()
	l.shots = append(l.shots, s)
	l.mu.Unlock()
}

// request is what a load run sends: who, in which class, what.
type request struct {
	key   string
	class string
	body  openai.CompletionRequest
}

// openLoop sends seeded Poisson arrivals at rate for d, choosing each request with pick, and
// records every outcome. It returns when every request has ended. Requests fire on their own
// goroutines; pick is called under a lock, so it may draw from one seeded generator.
func openLoop(ctx context.Context, name string, seed int64, rate float64, d time.Duration, pick func(i int) request) *ledger {
	l := &ledger{}
	var picking sync.Mutex
	l.stats = traffic.OpenLoop(ctx, traffic.Profile{Name: name, Rate: rate, Duration: d, Seed: seed},
		func(ctx context.Context, i int, scheduled time.Time) {
			picking.Lock()
			rq := pick(i)
			picking.Unlock()
			var hdr http.Header
			if rq.class != "" {
				hdr = http.Header{outcome.HeaderTrafficClass: {rq.class}}
			}
			res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: rq.key, Body: rq.body, Header: hdr})
			l.add(shot{scheduled: scheduled, class: rq.class, key: rq.key, res: res, err: err})
		})
	return l
}

// filter returns the shots for which keep is true.
func (l *ledger) filter(keep func(shot) bool) []shot {
	var out []shot
	for _, s := range l.shots {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// intervals are the client-side lifetimes of shots.
func intervals(shots []shot) []checks.Interval {
	out := make([]checks.Interval, 0, len(shots))
	for _, s := range shots {
		out = append(out, checks.Interval{Start: s.res.Start, End: s.res.Start.Add(s.res.Latency)})
	}
	return out
}

// latencies are the shots' total latencies.
func latencies(shots []shot) []time.Duration {
	out := make([]time.Duration, 0, len(shots))
	for _, s := range shots {
		out = append(out, s.res.Latency)
	}
	return out
}

// loadKeys picks the tenants a load of rate requests/s and inFlight concurrent requests is spread
// over, most generous quota first, so that admission, not a tenant's own quota or concurrency
// limit, is what the load meets. ok is false when no set of declared tenants can carry it: the
// test's validity gate.
func loadKeys(rate float64, inFlight int) (keys []string, ok bool) {
	return loadKeysOver(env.Target.Tenants, rate, inFlight)
}

// loadKeysOver is loadKeys over the tenants tenants only (those that may use a traffic class).
func loadKeysOver(tenants []target.Tenant, rate float64, inFlight int) (keys []string, ok bool) {
	ts := append([]target.Tenant(nil), tenants...)
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Quota.RequestsPerMinute > ts[j].Quota.RequestsPerMinute })
	conc := 0
	for k, t := range ts {
		// With k+1 tenants sharing the load equally, the smallest quota among them (this one's,
		// as they are sorted) must carry its share; their concurrency limits, the whole.
		keys = append(keys, t.Key)
		conc += t.Quota.MaxConcurrency
		share := rate / float64(k+1)
		if float64(t.Quota.RequestsPerMinute)/60 >= quotaHeadroom*share && conc >= inFlight {
			return keys, true
		}
	}
	return keys, false
}

// quotaHeadroom is how far above a load's rate the tenants' quotas must be, so burst arrivals of a
// Poisson schedule do not meet the quota either.
const quotaHeadroom = 1.5
