package router

import "github.com/aruntime/arcert/reference/admission"

// SetShare makes the router enforce its share of every declared limit, when the routers alive
// divide them (router.limits: split, reference/peers): Share{Index: 0, Of: 1} is all of each.
// Readiness follows, since a share of no slot leaves the router unable to take work. It holds
// capMu as syncCapacity does, so that a share and a capacity change racing each other cannot
// publish readiness out of order (a NOT_SERVING computed before the other's SERVING, stored after).
func (r *Router) SetShare(s admission.Share) error {
	r.capMu.Lock()
	defer r.capMu.Unlock()
	if err := r.adm.SetShare(s); err != nil {
		return err
	}
	r.syncHealth()
	return nil
}

// ShareStatus is the share in force and the capacity the router's workers offer before it.
func (r *Router) ShareStatus() admission.ShareStatus { return r.adm.ShareStatus() }
