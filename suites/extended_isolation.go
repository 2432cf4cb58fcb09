package suites

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"

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

// ten6PromptSets are one set of fresh prompts per endpoint and transport the target offers (the
// ones it lacks are recorded as not probed).
func ten6PromptSets(r *rand.Rand) []ten6Set {
	var sets []ten6Set
	for _, path := range tenancyEndpoints() {
		sets = append(sets, ten6Set{path: path, shared: prompt(r, ten6Words), userOnly: prompt(r, ten6Words), headerOnly: prompt(r, ten6Words)})
	}
	return sets
}

// ten6Paths names the paths of sets, for evidence.
func ten6Paths(sets []ten6Set) []string {
	var out []string
	for _, s := range sets {
		out = append(out, s.path)
	}
	return out
}

// ten6AsA sends content as tenant A over via with A's own labels sp, one token, waiting out A's
// request quota when it refuses.
func ten6AsA(ctx context.Context, via, content string, sp labelSpoof) labelCall {
	var c labelCall
	overQuota(ctx, tenantA(), func() (outcome.Reason, time.Duration) {
		c = callVia(ctx, via, tenantA().Key, content, 1, sp)
		return c.Reason, 0
	})
	return c
}

// ten6Probe is one way another tenant asks for A's demoted prompt.
type ten6Probe struct {
	name   string // for messages
	prompt string
	salt   string
	user   string
	header http.Header // call metadata over gRPC
}

// ten6TenantHeaders are the headers gateways are known to take a tenant from, all naming victim.
func ten6TenantHeaders(victim string) http.Header {
	return http.Header{"X-Tenant-Id": {victim}, "X-Tenant": {victim}, "X-Org-Id": {victim}, "OpenAI-Organization": {victim}}
}

// judgeDemotedIsolation sends A's prompts as every other tenant, on the path A sent them on, plain
// and with each label of A's a client can write (A's name and A's own cache_salt as cache_salt,
// A's user label as user, tenant headers or call metadata naming A), and requires no cached token
// on any. It returns the requests judged.
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

// ten6Send sends pr as tenant b over via and returns its cached prompt tokens.
func ten6Send(ctx context.Context, b target.Tenant, via string, pr ten6Probe) (cached int, served bool) {
	overQuota(ctx, b, func() (outcome.Reason, time.Duration) {
		c := callVia(ctx, via, b.Key, pr.prompt, 1, labelSpoof{Header: pr.header, User: pr.user, Salt: pr.salt})
		cached, served = c.Cached, c.Served
		return c.Reason, 0
	})
	return cached, served
}
