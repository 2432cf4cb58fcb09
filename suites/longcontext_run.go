package suites

import (
	"context"
	"net/http"
	"sync"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/traffic"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// Paths of the long-context spec's probes: HTTP streams and gRPC streams.
const (
	lcPathHTTPStream = "http-stream"
	lcPathGRPC       = "grpc"
	// lcPathHTTP is a long prompt sent as a plain (non-streamed) HTTP request.
	lcPathHTTP = "http"
)

// lcLedger records the long-context run's bursts and probes, each in its own ledger, and which
// tenant's burst was running when each probe was sent.
type lcLedger struct {
	long, probes chaosledger.Ledger
	mu           sync.Mutex
	// against maps a probe's Seq to the tenant whose long-prompt burst was running when it was sent.
	against map[int]string
}

// probe records a probe sent while against's burst ran.
func (l *lcLedger) probe(e chaosledger.Entry, against string) {
	l.mu.Lock()
	if l.against == nil {
		l.against = map[int]string{}
	}
	l.against[e.Seq] = against
	l.mu.Unlock()
	l.probes.Record(e)
}

// burster is the tenant whose burst ran when probe seq was sent.
func (l *lcLedger) burster(seq int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.against[seq]
}

// lcBurster is the tenant of burst i: the tenants that can carry a burst take turns, so each is
// the noisy tenant A once while the others probe.
func lcBurster(bursters []target.Tenant, i int) target.Tenant { return bursters[i%len(bursters)] }

// lcBursts sends lcBurstCount bursts of size long prompts, one every lcBurstEvery, each as the
// burster of its turn, and returns when every one has ended. long[i] is the i-th prompt.
func lcBursts(ctx context.Context, l *lcLedger, bursters []target.Tenant, class string, size int, long []string, current func(i int)) {
	var wg sync.WaitGroup
	tick := time.NewTicker(lcBurstEvery)
	defer tick.Stop()
	for b := range lcBurstCount {
		a := lcBurster(bursters, b)
		current(b)
		for k := range size {
			text := long[(b*size+k)%len(long)]
			wg.Go(func() {
				path, res, err := lcLong(ctx, a, class, text, b*size+k)
				e := loadEntry(a, class, res, err)
				e.Path = path
				l.long.Record(e)
			})
		}
		if b == lcBurstCount-1 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	wg.Wait()
}

// lcProbes sends short interactive probes as a Poisson stream for d, alternating HTTP streams and
// gRPC streams (HTTP only without a gRPC address), each as a tenant other than the burster of
// the moment, and returns when every probe has ended.
func lcProbes(ctx context.Context, l *lcLedger, probers []target.Tenant, class string, d time.Duration, burster func() string) traffic.Stats {
	r := rng(0xad8)
	var picking sync.Mutex
	return traffic.OpenLoop(ctx, traffic.Profile{Name: "long-context-probes", Rate: lcProbeRate, Duration: d, Seed: env.Seed + 8},
		func(ctx context.Context, i int, scheduled time.Time) {
			picking.Lock()
			a := burster()
			var b target.Tenant
			for k := range probers {
				if b = probers[(i+k)%len(probers)]; b.Name != a {
					break
				}
			}
			text := prompt(r, lcProbeWords)
			picking.Unlock()
			var (
				res  driver.Result
				err  error
				path = lcPathHTTPStream
			)
			if i%2 == 1 && env.GRPC != nil {
				path = lcPathGRPC
				res, err = lcGRPC(ctx, b.Key, class, text)
			} else {
				res, err = env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: b.Key, Body: probe(text, lcProbeTokens, true),
					Header: http.Header{outcome.HeaderTrafficClass: {class}}})
			}
			e := loadEntry(b, class, res, err)
			e.Seq, e.Scheduled, e.Path = i+1, scheduled, path
			l.probe(e, a)
		})
}

// lcLong sends long prompt n of the run as a by its turn among HTTP streams, plain HTTP and gRPC
// streams (HTTP streams in gRPC's turn without a gRPC address): a runtime that moves long
// prefills off the decoding workers only for the requests it streams over HTTP stalls the others.
func lcLong(ctx context.Context, a target.Tenant, class, text string, n int) (string, driver.Result, error) {
	switch {
	case n%3 == 1:
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: a.Key, Body: probe(text, lcLongMaxTokens, false),
			Header: http.Header{outcome.HeaderTrafficClass: {class}}})
		return lcPathHTTP, res, err
	case n%3 == 2 && env.GRPC != nil:
		res, err := lcGRPCTokens(ctx, a.Key, class, text, lcLongMaxTokens)
		return lcPathGRPC, res, err
	}
	res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: a.Key, Body: probe(text, lcLongMaxTokens, true),
		Header: http.Header{outcome.HeaderTrafficClass: {class}}})
	return lcPathHTTPStream, res, err
}

// lcGRPC sends one gRPC stream and records it as the HTTP driver would, so both paths are judged
// by the same statistics.
func lcGRPC(ctx context.Context, key, class, text string) (driver.Result, error) {
	return lcGRPCTokens(ctx, key, class, text, lcProbeTokens)
}

// lcGRPCTokens is lcGRPC asking for maxTokens of output.
func lcGRPCTokens(ctx context.Context, key, class, text string, maxTokens int) (driver.Result, error) {
	g, err := env.GRPC.Complete(ctx, key, &arcertv1.CompleteRequest{Model: model().Name,
		Messages: []*arcertv1.ChatMessage{{Role: "user", Content: text}}, MaxTokens: int64(maxTokens), TrafficClass: class})
	res := driver.Result{Outcome: g.Outcome, Reason: g.Reason, ServedBy: g.ServedBy, RequestID: g.RequestID, Start: g.Start,
		TTFT: g.TTFT, ITL: g.ITL, Latency: g.Latency, Tokens: g.Tokens, ContractViolations: g.ContractViolations}
	if u := g.Usage; u != nil {
		res.Usage = openai.Usage{PromptTokens: int(u.GetPromptTokens()), CompletionTokens: int(u.GetCompletionTokens())}
	}
	return res, err
}

// lcTenants splits the tenants of class into those whose quota carries a burst (as A) and those
// whose quota carries their share of the probes (as B).
func lcTenants(class string, size, longTokens int) (bursters, probers []target.Tenant) {
	for _, t := range classTenants(class) {
		perSecond := float64(size) / lcBurstEvery.Seconds()
		if t.Quota.Concurrency() >= size && float64(t.Quota.Requests())/60 >= quotaHeadroom*perSecond &&
			float64(t.Quota.Tokens())/60 >= quotaHeadroom*perSecond*float64(longTokens) {
			bursters = append(bursters, t)
		}
		if float64(t.Quota.Requests())/60 >= quotaHeadroom*lcProbeRate {
			probers = append(probers, t)
		}
	}
	return bursters, probers
}
