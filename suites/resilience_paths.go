package suites

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
	"github.com/aruntime/arcert/conformance/target"
)

// Output sizes of the fault runs' requests: a plain answer is a short probe, a stream long enough
// to be many events or messages.
const (
	plainTokens  = 4
	streamTokens = 12
)

// faultPaths are the wires the target offers: gRPC only with a gRPC endpoint, streams only with
// the streaming feature. The order is fixed, so a seeded run sends the same request the same way.
func faultPaths() []string {
	paths := []string{viaHTTP}
	if env.Target.Declares("streaming") {
		paths = append(paths, viaHTTPStream)
	}
	if env.GRPC != nil {
		paths = append(paths, viaGRPC)
		if env.Target.Declares("streaming") {
			paths = append(paths, viaGRPCStream)
		}
	}
	return paths
}

// explainPaths records notProbed for each of want the target does not offer.
func explainPaths(want ...string) {
	have := faultPaths()
	for _, p := range want {
		if slices.Contains(have, p) {
			continue
		}
		switch p {
		case viaGRPC, viaGRPCStream:
			if env.GRPC == nil {
				notProbed(p, "the target declares no gRPC endpoint")
				continue
			}
		}
		notProbed(p, "the target does not declare the streaming feature")
	}
}

// rotate sends each tenant's requests in turn over every wire: request i goes to tenant
// i mod len(tenants) over the next wire for that tenant, so each tenant meets every wire.
func rotate(tenants []target.Tenant, words int, mark func(r *rand.Rand, t target.Tenant) string) func(r *rand.Rand, i int) loadReq {
	paths := faultPaths()
	return func(r *rand.Rand, i int) loadReq {
		t := tenants[i%len(tenants)]
		via := paths[(i/len(tenants))%len(paths)]
		content := prompt(r, words)
		if mark != nil {
			content += " " + mark(r, t)
		}
		return viaRequest(t, via, content)
	}
}

// viaRequest is a request of t over via with content as its prompt.
func viaRequest(t target.Tenant, via, content string) loadReq {
	stream := via == viaHTTPStream || via == viaGRPCStream
	n := plainTokens
	if stream {
		n = streamTokens
	}
	return loadReq{tenant: t, via: via, body: probe(content, n, via == viaHTTPStream)}
}

// sendVia sends rq over its wire and records what came back as a ledger entry.
func sendVia(ctx context.Context, rq loadReq) chaosledger.Entry {
	var e chaosledger.Entry
	switch rq.via {
	case viaGRPC, viaGRPCStream:
		res, err := env.GRPC.Complete(ctx, rq.tenant.Key, grpcRequest(rq.body, ""))
		e = entryOfGRPC(rq.tenant, res, err)
	default:
		res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: rq.tenant.Key, Body: rq.body, Header: rq.hdr})
		e = entryOf(rq.tenant, res, err)
	}
	e.Path = rq.via
	if e.Path == "" {
		e.Path = viaHTTP
	}
	return e
}

// entryOfGRPC is entryOf for a gRPC call: a call that broke before any status is indeterminate,
// one that failed after content is a mid-stream failure.
func entryOfGRPC(t target.Tenant, res grpcdriver.Result, err error) chaosledger.Entry {
	e := chaosledger.Entry{Tenant: t.Name, Endpoint: res.Endpoint, Start: res.Start, End: res.Start.Add(res.Latency), Deadline: tenantDeadline(t),
		RequestID: res.RequestID, Outcome: res.Outcome, Reason: res.Reason, ServedBy: res.ServedBy,
		Indeterminate: err != nil, Violations: res.ContractViolations, MidStream: res.Tokens > 0 && res.Code != codes.OK, Tokens: res.Tokens,
		RetryAfter: res.RetryAfter}
	if err != nil {
		e.Error = errorWords(err)
	}
	return e
}

// byPath counts entries per wire.
func byPath(entries []chaosledger.Entry) map[string]int {
	out := map[string]int{}
	for _, e := range entries {
		out[e.Path]++
	}
	return out
}

// judgedByPath records the current spec's samples of each wire.
func judgedByPath(entries []chaosledger.Entry) {
	for p, n := range byPath(entries) {
		judged(p, n)
	}
}

// judgedPaths records, for requirement id, the samples of each wire and of each tenant.
func judgedPaths(id string, entries []chaosledger.Entry) {
	tenants := map[string]int{}
	for p, n := range byPath(entries) {
		judgedFor(id, p, n)
	}
	for _, e := range entries {
		tenants[e.Tenant]++
	}
	for t, n := range tenants {
		judgedFor(id, "tenant:"+t, n)
	}
}

// missingPaths names the wires of faultPaths that have no entry for tenant t in entries, so a
// spec can refuse to judge a tenant the run never reached over one of them.
func missingPaths(entries []chaosledger.Entry, t target.Tenant) []string {
	seen := map[string]bool{}
	for _, e := range entries {
		if e.Tenant == t.Name {
			seen[e.Path] = true
		}
	}
	var out []string
	for _, p := range faultPaths() {
		if !seen[p] {
			out = append(out, p)
		}
	}
	return out
}

// pathsText is byPath for people: "http 12, grpc 11".
func pathsText(entries []chaosledger.Entry) string {
	c := byPath(entries)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	return strings.Join(parts, ", ")
}

// tenantNames lists the tenants' names for messages.
func tenantNames(ts []target.Tenant) string {
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}
