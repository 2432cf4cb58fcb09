package suites

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// loadRun is what a load run leaves: every request as a chaos/ledger entry, the record a fault
// run and a game day keep too, ordered by start, and what the generator did.
type loadRun struct {
	entries []chaosledger.Entry
	stats   traffic.Stats
}

// request is what a load run sends: who, in which class, what, and over gRPC instead of HTTP
// (the body's messages and max_tokens as an arcert.v1 call).
type request struct {
	key   string
	class string
	body  openai.CompletionRequest
	grpc  bool
	// way is the HTTP route and wire the request takes; the zero way is chat completions, plain
	// or streamed as the body says.
	way httpWay
}

// openLoop sends seeded Poisson arrivals at rate for d, choosing each request with pick, and
// records every outcome. It returns when every request has ended. Requests fire at once, on
// goroutines of their own for the call; pick is called under a lock, so it may draw from one seeded generator.
func openLoop(ctx context.Context, name string, seed int64, rate float64, d time.Duration, pick func(i int) request) *loadRun {
	var l chaosledger.Ledger
	var picking sync.Mutex
	stats := traffic.OpenLoop(ctx, traffic.Profile{Name: name, Rate: rate, Duration: d, Seed: seed},
		func(ctx context.Context, i int, scheduled time.Time) {
			picking.Lock()
			rq := pick(i)
			picking.Unlock()
			l.Record(sendLoad(ctx, i, scheduled, rq))
		})
	return &loadRun{entries: l.Entries(), stats: stats}
}

// sendLoad sends request i of a load run, scheduled at scheduled, and returns its entry.
func sendLoad(ctx context.Context, i int, scheduled time.Time, rq request) chaosledger.Entry {
	if rq.grpc {
		e := sendLoadGRPC(ctx, rq)
		e.Seq, e.Scheduled, e.Path = i+1, scheduled, viaGRPC
		return e
	}
	var hdr http.Header
	if rq.class != "" {
		hdr = http.Header{outcome.HeaderTrafficClass: {rq.class}}
	}
	endpoint := rq.way.endpoint
	if endpoint == "" {
		endpoint = driver.PathChatCompletions
	}
	res, err := env.HTTP.Do(ctx, driver.Call{Path: endpoint, Key: rq.key, Body: asEndpoint(endpoint, rq.body), Header: hdr})
	e := loadEntry(tenantOfKey(rq.key), rq.class, res, err)
	e.Seq, e.Scheduled, e.Path = i+1, scheduled, viaHTTP
	switch {
	case rq.way.path != "":
		e.Path = rq.way.path
	case rq.body.Stream:
		e.Path = viaHTTPStream
	}
	return e
}

// sendLoadGRPC sends rq over gRPC and records it as loadEntry records an HTTP request, its
// prompt tokens from the call's usage.
func sendLoadGRPC(ctx context.Context, rq request) chaosledger.Entry {
	call := &arcertv1.CompleteRequest{Model: rq.body.Model, TrafficClass: rq.class, User: rq.body.User, CacheSalt: rq.body.CacheSalt}
	for _, m := range rq.body.Messages {
		call.Messages = append(call.Messages, &arcertv1.ChatMessage{Role: m.Role, Content: m.Content})
	}
	if rq.body.MaxTokens != nil {
		call.MaxTokens = *rq.body.MaxTokens
	}
	t := tenantOfKey(rq.key)
	res, err := env.GRPC.Complete(ctx, rq.key, call)
	e := entryOfGRPC(t, res, err)
	e.TTFT, e.Class = res.TTFT, rq.class
	if k, ok := declaredIn(env.Target.TrafficClasses, rq.class); ok && k.Deadline > 0 {
		e.Deadline = k.Deadline
	}
	if u := res.Usage; u != nil {
		e.PromptTokens, e.CompletionTokens = int(u.GetPromptTokens()), int(u.GetCompletionTokens())
	}
	return e
}

// loadEntry records a request of a Core load run: the entry a fault run records (entryOf), in
// the class it asked for, judged against that class's deadline when the target declares one.
func loadEntry(t target.Tenant, class string, res driver.Result, err error) chaosledger.Entry {
	e := entryOf(t, res, err)
	e.Class = class
	if k, ok := declaredIn(env.Target.TrafficClasses, class); ok && k.Deadline > 0 {
		e.Deadline = k.Deadline
	}
	return e
}

// tenantOfKey is the declared tenant whose key is key; a key no tenant holds (a spec's own bad
// key) is recorded under no name.
func tenantOfKey(key string) target.Tenant {
	for _, t := range env.Target.Tenants {
		if t.Key == key {
			return t
		}
	}
	return target.Tenant{Key: key}
}

// errorWords is err as a ledger entry states it: never empty, since an entry with no Error is
// one whose outcome reached the client.
func errorWords(err error) string { return cmp.Or(err.Error(), "an error without words") }

// harnessHeld is the validity gate of a run in which n requests waited in the harness for one of
// its bound connections to a router (driver.Client.ConnectionBound): their latency and, where
// their context ended first, their outcome were the harness's, so the run judges nothing.
func harnessHeld(n, bound int64) string {
	return fmt.Sprintf("%d requests waited in the harness for one of its %d connections to a router, so their latency and outcome were not the runtime's alone",
		n, bound)
}

// answered reports whether a request reached an outcome the client could read: no transport
// error, no cancelled run.
func answered(e chaosledger.Entry) bool { return e.Error == "" }

// servedOK reports whether a request was answered and served.
func servedOK(e chaosledger.Entry) bool { return answered(e) && e.Outcome.Served() }

// intervals are the client-side lifetimes of entries.
func intervals(entries []chaosledger.Entry) []checks.Interval {
	out := make([]checks.Interval, 0, len(entries))
	for _, e := range entries {
		out = append(out, checks.Interval{Start: e.Start, End: e.End})
	}
	return out
}

// latencies are the entries' total latencies.
func latencies(entries []chaosledger.Entry) []time.Duration {
	out := make([]time.Duration, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Latency())
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
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Quota.Requests() > ts[j].Quota.Requests() })
	conc := 0
	for k, t := range ts {
		// With k+1 tenants sharing the load equally, the smallest quota among them (this one's,
		// as they are sorted) must carry its share; their concurrency limits, the whole.
		keys = append(keys, t.Key)
		conc += t.Quota.Concurrency()
		share := rate / float64(k+1)
		if float64(t.Quota.Requests())/60 >= quotaHeadroom*share && conc >= inFlight {
			return keys, true
		}
	}
	return keys, false
}

// quotaHeadroom is how far above a load's rate the tenants' quotas must be, so burst arrivals of a
// Poisson schedule do not meet the quota either.
const quotaHeadroom = 1.5
