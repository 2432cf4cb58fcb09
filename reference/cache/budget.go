package cache

import (
	"fmt"
	"maps"
)

// Budgets are the tier's byte limits. They are declared rather than
// discovered so that which tenant loses which block under pressure is
// reproducible (see the package comment for the policy).
type Budgets struct {
	// Global bounds the bytes the whole tier holds; it must be positive.
	Global uint64
	// Tenant is the budget of every tenant that Tenants does not name. Zero
	// keeps unnamed tenants out of the tier.
	Tenant uint64
	// Tenants overrides Tenant for the tenants it names; zero keeps that
	// tenant out of the tier.
	Tenants map[string]uint64
}

// validate returns an error wrapping ErrOptions when b cannot hold anything.
func (b Budgets) validate() error {
	if b.Global == 0 {
		return fmt.Errorf("%w: Budgets.Global is 0, want the tier's size in bytes", ErrOptions)
	}
	if _, ok := b.Tenants[""]; ok {
		return fmt.Errorf("%w: Budgets.Tenants names the empty tenant", ErrOptions)
	}
	return nil
}

// of returns tenant's budget.
func (b Budgets) of(tenant string) uint64 {
	if v, ok := b.Tenants[tenant]; ok {
		return v
	}
	return b.Tenant
}

// clone returns b with a map of its own, so the caller's later edits do not
// change a running tier's policy.
func (b Budgets) clone() Budgets {
	b.Tenants = maps.Clone(b.Tenants)
	return b
}
