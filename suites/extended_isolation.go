package suites

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// ten6Words is the length of each prompt A caches before the pressure: long enough for many
// prefix-cache blocks.
const ten6Words = 400

// ten6Set is the prompts of A's that another tenant asks for on one client path. Each probe of
// another tenant must be the first in its cache namespace for its prompt, or its own earlier
// request would explain a hit: shared serves the plain probe and the cache_salt probes (each a
// namespace of its own), userOnly the user-label probe and headerOnly the tenant-header probe
// (which share the plain namespace).
type ten6Set struct {
	path, shared, userOnly, headerOnly string
}

// ten6PromptSets are one set of fresh prompts per client path.
func ten6PromptSets(r *rand.Rand) []ten6Set {
	var sets []ten6Set
	for _, path := range ten6Paths() {
		sets = append(sets, ten6Set{path: path, shared: prompt(r, ten6Words), userOnly: prompt(r, ten6Words), headerOnly: prompt(r, ten6Words)})
	}
	return sets
}

// ten6Paths are the client paths the demotion isolation spec probes.
func ten6Paths() []string {
	if env.GRPC != nil {
		return []string{opsHTTP, opsGRPC}
	}
	return []string{opsHTTP}
}

// saltedProbe is a one-token probe of p with a client cache_salt.
func saltedProbe(p, salt string) openai.CompletionRequest {
	q := probe(p, 1, false)
	q.CacheSalt = salt
	return q
}

// ten6Probe is one way another tenant asks for A's demoted prompt.
type ten6Probe struct {
	name   string // for messages
	prompt string
	salt   string
	user   string
	header http.Header // HTTP only: gRPC calls carry no client headers here
}

// ten6TenantHeaders are the headers gateways are known to take a tenant from, all naming victim.
func ten6TenantHeaders(victim string) http.Header {
	return http.Header{"X-Tenant-Id": {victim}, "X-Tenant": {victim}, "X-Org-Id": {victim}, "OpenAI-Organization": {victim}}
}

// judgeDemotedIsolation sends A's prompts as every other tenant, on every client path, plain and
// with each label of A's a client can write (A's name and A's own cache_salt as cache_salt, A's
// user label as user, tenant headers naming A on HTTP), and requires no cached token on any. It returns the requests judged.
func judgeDemotedIsolation(ctx context.Context, sets []ten6Set, salt string) int {
	a := tenantA()
	n := 0
	for _, b := range env.Target.Tenants[1:] {
		for _, set := range sets {
			for _, pr := range []ten6Probe{
				{name: "the identical prompt", prompt: set.shared},
				{name: "A's name as cache_salt", prompt: set.shared, salt: a.Name},
				{name: "A's own cache_salt", prompt: set.shared, salt: salt},
				{name: "A's user label as user", prompt: set.userOnly, user: a.User},
				{name: "tenant headers naming A", prompt: set.headerOnly, header: ten6TenantHeaders(a.Name)},
			} {
				if pr.header != nil && set.path == opsGRPC {
					continue
				}
				cached, served := ten6Send(ctx, b, set.path, pr)
				opsCheck(served, "%s's %s request with %s after A's prefix was demoted was not served", b.Name, set.path, pr.name)
				opsCheck(cached == 0, "%s's %s request with %s was served %d cached tokens of %s's prompt, which only other tenants had sent before",
					b.Name, set.path, pr.name, cached, a.Name)
				judged(set.path, 1)
				judged("tenant:"+b.Name, 1)
				switch {
				case pr.salt != "":
					judged("cache-salt", 1)
				case pr.user != "" || pr.header != nil:
					judged("label", 1)
				}
				n++
			}
		}
	}
	return n
}

// ten6Send sends pr as tenant b on path and returns its cached prompt tokens.
func ten6Send(ctx context.Context, b target.Tenant, path string, pr ten6Probe) (cached int, served bool) {
	overQuota(ctx, b, func() (outcome.Reason, time.Duration) {
		if path == opsGRPC {
			res, err := env.GRPC.Complete(ctx, b.Key, &arcertv1.CompleteRequest{Model: model().Name,
				Messages: []*arcertv1.ChatMessage{{Role: "user", Content: pr.prompt}}, MaxTokens: 1, CacheSalt: pr.salt, User: pr.user})
			opsCheck(err == nil, "%s's gRPC request could not be exchanged: %v", b.Name, err)
			cached, served = int(res.Usage.GetCachedTokens()), res.Outcome.Served()
			return res.Reason, 0
		}
		body := probe(pr.prompt, 1, false)
		body.CacheSalt, body.User = pr.salt, pr.user
		res := send(ctx, b.Key, body, pr.header)
		cached, served = cachedOf(res), res.Outcome.Served()
		return res.Reason, res.RetryAfter
	})
	return cached, served
}
