package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/target"
)

// expect resolves one expectation of a phase.
func (c *compiler) expect(at string, e Expect) scenario.Expectation {
	out := scenario.Expectation{Name: e.name(), Tenant: e.Tenant, Class: e.Class, MinServed: e.MinServed,
		Allowed: e.Allowed, NothingLost: e.NothingLost, MinSamples: e.MinSamples}
	tn, tc, ok := c.who(at, e.Tenant, e.Class)
	if !ok {
		return out
	}
	out.MaxP90TTFT = c.ttft(at+".p90TTFT", tn, tc, e.P90TTFT)
	if e.PolicyKept != nil {
		out.Forbidden = c.forbidden(at+".policyKept", tn, *e.PolicyKept)
	}
	return out
}

// forbidden is where the requests must never be served: the listed places, each a region or
// hosted provider the target declares, or (policyKept: true) every declared region outside the
// tenant's allowed_regions and, unless it allows hosted fallback, every hosted provider.
func (c *compiler) forbidden(at string, tn *target.Tenant, pk PolicyKept) []string {
	var regions, providers []string
	for _, r := range c.t.Regions {
		regions = append(regions, r.Name)
	}
	for _, d := range c.t.Dependencies {
		if d.Role == link.RoleProvider && !slices.Contains(providers, d.Name) {
			providers = append(providers, d.Name)
		}
	}
	if !pk.FromPolicy {
		for i, place := range pk.Forbidden {
			if !slices.Contains(regions, place) && !slices.Contains(providers, place) {
				c.p.add(fmt.Sprintf("%s.forbidden[%d]", at, i), "%q is neither a region nor a hosted provider %s declares (regions: %s; providers: %s)",
					place, c.t.Source, orNone(regions), orNone(providers))
			}
		}
		return pk.Forbidden
	}
	if tn == nil {
		return nil // Parse reported it: true needs a tenant
	}
	var out []string
	for _, r := range regions {
		if !slices.Contains(tn.DataPolicy.AllowedRegions, r) {
			out = append(out, r)
		}
	}
	if !tn.DataPolicy.HostedFallback {
		out = append(out, providers...)
	}
	if len(out) == 0 {
		c.p.add(at, "tenant %s's data policy allows every region (%s) and hosted fallback, so true forbids nothing: list forbidden places or drop it",
			tn.Name, strings.Join(regions, ", "))
	}
	return out
}
