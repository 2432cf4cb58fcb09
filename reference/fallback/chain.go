package fallback

import (
	"slices"

	"github.com/aruntime/arcert/api/outcome"
)

// PoolSpec is one of the runtime's worker pools as the configuration declares it. Several workers
// of one pool may each contribute a PoolSpec; Chain merges them.
type PoolSpec struct {
	Region, Pool string
	Models       []string
}

// ProviderSpec is a hosted provider: its name, the region it declares its data stays in, and the
// models it is used for.
type ProviderSpec struct {
	Name, Region string
	Models       []string
}

// Topology is everything a chain is built from. Chains are derived rather than written by hand so
// that their order is one rule, the same for every model: the cheapest data movement first.
type Topology struct {
	// PrimaryRegion is the region this runtime serves from first.
	PrimaryRegion string
	Pools         []PoolSpec
	Providers     []ProviderSpec
	// FallbackModels maps a model to its declared fallback model. Only one step is taken: the
	// fallback model's own fallback is not, so a chain can neither loop nor wander far.
	FallbackModels map[string]string
}

// Chain is the ordered places for model: pools of the primary region, pools of the other regions
// in the order they are declared, then hosted providers; then the same again for the declared
// fallback model, marked with the fallback_model reduction. The same model anywhere keeps the
// output contract, a different model does not, so every reduction comes after every move. Order
// within a step is declaration order, so the chain is deterministic.
func (t Topology) Chain(model string) []Place {
	out := t.places(model, "")
	if fb, ok := t.FallbackModels[model]; ok && fb != "" && fb != model {
		out = append(out, t.places(fb, outcome.ReasonFallbackModel)...)
	}
	return out
}

// places lists where model itself is served, tagged with reduction.
func (t Topology) places(model string, reduction outcome.Reason) []Place {
	var local, remote, hosted []Place
	add := func(list *[]Place, p Place) {
		for _, l := range [][]Place{local, remote, hosted} {
			if slices.Contains(l, p) {
				return
			}
		}
		*list = append(*list, p)
	}
	for _, s := range t.Pools {
		if !slices.Contains(s.Models, model) {
			continue
		}
		p := Place{Kind: KindPool, Region: s.Region, Pool: s.Pool, Model: model, Reduction: reduction}
		if s.Region == t.PrimaryRegion {
			add(&local, p)
		} else {
			add(&remote, p)
		}
	}
	remote = groupByRegion(remote)
	for _, s := range t.Providers {
		if slices.Contains(s.Models, model) {
			add(&hosted, Place{Kind: KindProvider, Region: s.Region, Provider: s.Name, Model: model, Reduction: reduction})
		}
	}
	return slices.Concat(local, remote, hosted)
}

// groupByRegion orders places so that each region's pools are adjacent, regions in the order they
// first appear: failing over pool by pool within a region before leaving it keeps data closer.
func groupByRegion(ps []Place) []Place {
	var order []string
	for _, p := range ps {
		if !slices.Contains(order, p.Region) {
			order = append(order, p.Region)
		}
	}
	out := make([]Place, 0, len(ps))
	for _, r := range order {
		for _, p := range ps {
			if p.Region == r {
				out = append(out, p)
			}
		}
	}
	return out
}
