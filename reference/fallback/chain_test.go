package fallback

import (
	"slices"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
)

func TestChainOrder(t *testing.T) {
	topo := Topology{
		PrimaryRegion: "eu-west",
		Pools: []PoolSpec{
			{Region: "us-east", Pool: "c", Models: []string{"m", "m-small"}},
			{Region: "ap-south", Pool: "d", Models: []string{"m"}},
			{Region: "eu-west", Pool: "a", Models: []string{"m", "m-small"}},
			{Region: "us-east", Pool: "e", Models: []string{"m"}},
			{Region: "eu-west", Pool: "a", Models: []string{"m"}}, // a second worker of pool a
			{Region: "eu-west", Pool: "b", Models: []string{"other"}},
		},
		Providers:      []ProviderSpec{{Name: "hosted", Region: "us-east", Models: []string{"m"}}},
		FallbackModels: map[string]string{"m": "m-small", "m-small": "m"},
	}
	fb := outcome.ReasonFallbackModel
	want := []Place{
		{Kind: KindPool, Region: "eu-west", Pool: "a", Model: "m"},
		{Kind: KindPool, Region: "us-east", Pool: "c", Model: "m"},
		{Kind: KindPool, Region: "us-east", Pool: "e", Model: "m"},
		{Kind: KindPool, Region: "ap-south", Pool: "d", Model: "m"},
		{Kind: KindProvider, Region: "us-east", Provider: "hosted", Model: "m"},
		{Kind: KindPool, Region: "eu-west", Pool: "a", Model: "m-small", Reduction: fb},
		{Kind: KindPool, Region: "us-east", Pool: "c", Model: "m-small", Reduction: fb},
	}
	if got := topo.Chain("m"); !slices.Equal(got, want) {
		t.Errorf("Chain(m) =\n%v\nwant\n%v", got, want)
	}
	// m-small falls back to m, but only one step: m's own fallback is not followed back.
	gotSmall := topo.Chain("m-small")
	if n := len(gotSmall); n != 2+5 {
		t.Errorf("Chain(m-small) has %d places, want m-small's 2 and m's 5: %v", n, gotSmall)
	}
	for _, p := range gotSmall[2:] {
		if p.Model != "m" || p.Reduction != fb {
			t.Errorf("Chain(m-small) fallback place %v, want model m with reduction %s", p, fb)
		}
	}
	if got := topo.Chain("unknown"); len(got) != 0 {
		t.Errorf("Chain(unknown) = %v, want empty", got)
	}
}

// TestChainPlansToFallbackModel ties the two halves: a chain built from a topology, planned for an
// eu-only tenant without hosted fallback, never reaches us-east or the provider.
func TestChainPlansToFallbackModel(t *testing.T) {
	topo := Topology{
		PrimaryRegion: "eu-west",
		Pools: []PoolSpec{
			{Region: "eu-west", Pool: "a", Models: []string{"m"}},
			{Region: "eu-west", Pool: "b", Models: []string{"m-small"}},
			{Region: "us-east", Pool: "c", Models: []string{"m"}},
		},
		Providers:      []ProviderSpec{{Name: "hosted", Region: "eu-west", Models: []string{"m"}}},
		FallbackModels: map[string]string{"m": "m-small"},
	}
	downA := func(p Place) bool { return p.Pool != "a" }
	d, err := Plan(topo.Chain("m"), euNoHosted, downA)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if d.Place.Pool != "b" || d.Place.Model != "m-small" || d.Reason != outcome.ReasonFallbackModel {
		t.Errorf("Plan = %v %s/%s, want pool b serving m-small, degraded/fallback_model", d.Place, d.Class, d.Reason)
	}
	if sb := d.Place.ServedBy(); sb.Region != "eu-west" || sb.Pool != "b" || sb.Provider != "" {
		t.Errorf("ServedBy = %v", sb)
	}
}
