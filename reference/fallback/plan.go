package fallback

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aruntime/arcert/api/outcome"
)

// Plan chooses where to serve: the first place of chain that the tenant's policy allows and that
// healthy reports up. Policy is checked before health, and a place the policy forbids is never
// chosen, however few places are left: refusing is the only answer that keeps the tenant's data
// where it agreed it may go.
//
// The outcome compares the chosen place with the tenant's primary, which is the first place of
// the chain its policy allows, up or not. A tenant whose policy excludes the runtime's own primary
// region is therefore served "where asked" (completed) in the first region it does allow, and is
// rerouted only when that place is down; ARuntime-Served-By shows the region either way.
//
// Errors, each wrapping a sentinel:
//   - ErrInvalidChain: a place cannot be judged (a configuration bug).
//   - ErrPolicyForbidsRegion: no place of the chain lies in an allowed region, up or not.
//   - ErrPolicyForbidsFallback: the policy allows no place of the chain at all (the only places in
//     its regions are hosted ones it forbids), or every allowed place is down while a forbidden
//     one is up, so the only remaining place is one the tenant forbids.
//   - ErrNoPlace: the chain is empty, or it allows places but nothing at all is up, so the
//     failure is not the policy's and may heal.
//
// On an error the Decision still carries Skipped, every place with why it was passed over. healthy
// is called at most once per place, and for a forbidden place only when no allowed place is up.
func Plan(chain []Place, policy Policy, healthy func(Place) bool) (Decision, error) {
	if len(chain) == 0 {
		return Decision{}, fmt.Errorf("%w: the chain is empty", ErrNoPlace)
	}
	for _, p := range chain {
		if err := p.validate(); err != nil {
			return Decision{}, err
		}
	}
	primary, anyRegion := -1, false
	for i, p := range chain {
		why := policy.forbids(p)
		anyRegion = anyRegion || why != SkipRegionForbidden
		if why == "" && primary < 0 {
			primary = i
		}
	}
	if !anyRegion {
		d := Decision{Skipped: skipAll(chain, policy, healthy)}
		return d, fmt.Errorf("%w: allowed %v, chain regions %v", ErrPolicyForbidsRegion, policy.AllowedRegions, regions(chain))
	}
	if primary < 0 {
		d := Decision{Skipped: skipAll(chain, policy, healthy)}
		return d, fmt.Errorf("%w: %s", ErrPolicyForbidsFallback, describe(d.Skipped))
	}

	var d Decision
	for i, p := range chain {
		if why := policy.forbids(p); why != "" {
			d.Skipped = append(d.Skipped, Skip{Place: p, Why: why})
			continue
		}
		if !healthy(p) {
			d.Skipped = append(d.Skipped, Skip{Place: p, Why: SkipUnhealthy})
			continue
		}
		d.Place, d.Index = p, i
		d.Class, d.Reason = classify(p, chain[primary], i == primary)
		return d, nil
	}

	// Nothing allowed is up. Whether a forbidden place is up decides between a refusal and a
	// failure, so only now are forbidden places probed.
	forbiddenUp := false
	for i := range d.Skipped {
		if s := &d.Skipped[i]; s.Why != SkipUnhealthy && healthy(s.Place) {
			s.Healthy, forbiddenUp = true, true
		}
	}
	if forbiddenUp {
		return d, fmt.Errorf("%w: %s", ErrPolicyForbidsFallback, describe(d.Skipped))
	}
	return d, fmt.Errorf("%w: %s", ErrNoPlace, describe(d.Skipped))
}

// forbids says why the policy forbids p, or "" when it allows it. Region comes first: a provider
// in a forbidden region is forbidden for where it is, whatever the hosted-fallback setting.
func (pol Policy) forbids(p Place) SkipReason {
	if !slices.Contains(pol.AllowedRegions, p.Region) {
		return SkipRegionForbidden
	}
	if p.Kind == KindProvider && !pol.HostedFallback {
		return SkipHostedForbidden
	}
	return ""
}

// classify is the outcome of serving at chosen when the tenant's primary is primary. A reduction
// wins over a move, because a different model is the bigger change to what the caller gets; the
// move still shows in ARuntime-Served-By.
func classify(chosen, primary Place, isPrimary bool) (outcome.Class, outcome.Reason) {
	var r outcome.Reason
	switch {
	case chosen.Reduction != "":
		r = chosen.Reduction
	case isPrimary || chosen == primary:
		r = outcome.ReasonNone
	case chosen.Kind == KindProvider:
		r = outcome.ReasonProviderFallback
	case chosen.Region != primary.Region:
		r = outcome.ReasonRegionFailover
	default:
		r = outcome.ReasonPoolFailover
	}
	return r.Class(), r
}

// skipAll explains every place of a chain the policy refuses outright, probing health so that the
// record shows what was up.
func skipAll(chain []Place, policy Policy, healthy func(Place) bool) []Skip {
	out := make([]Skip, 0, len(chain))
	for _, p := range chain {
		out = append(out, Skip{Place: p, Why: policy.forbids(p), Healthy: healthy(p)})
	}
	return out
}

// describe renders skipped places for an error message, which ends up in the response.
func describe(skipped []Skip) string {
	parts := make([]string, 0, len(skipped))
	for _, s := range skipped {
		switch {
		case s.Why == SkipUnhealthy:
			parts = append(parts, s.Place.String()+": down")
		case s.Healthy:
			parts = append(parts, s.Place.String()+": "+string(s.Why)+", up")
		default:
			parts = append(parts, s.Place.String()+": "+string(s.Why))
		}
	}
	return strings.Join(parts, "; ")
}

// regions lists the distinct regions of chain in order, for messages.
func regions(chain []Place) []string {
	var out []string
	for _, p := range chain {
		if !slices.Contains(out, p.Region) {
			out = append(out, p.Region)
		}
	}
	return out
}
