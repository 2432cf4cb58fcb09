// Package cache is the reference runtime's shared L2 prefix-cache tier
// (`aruntime cache`): the tier behind every worker's L1 prefix cache.
//
// Workers demote the blocks their L1 evicts here and, on an L1 miss, ask
// which of a prompt's blocks the tier still holds so they can promote them
// back instead of prefilling them again. The keys are the L1's chained block
// keys (prefixcache.Key), which already start from the tenant's salt; on top
// of that every entry lives in the scope of the tenant the router
// authenticated, and a lookup searches only its own tenant's scope. So even
// a key that two tenants share (a worker configured to share salts, or a
// hash collision) never lets one tenant hit, time or evict through another
// tenant's entry.
//
// Eviction policy, declared because cache timing is observable:
//
//  1. Each tenant has a byte budget (Budgets.Tenant, or its entry in
//     Budgets.Tenants) and its own LRU list. A Put that takes the tenant past
//     its budget evicts that tenant's least recently used blocks, and only
//     that tenant's.
//  2. A prompt's blocks are touched from the last to the first, by Put and by
//     Match, so the first block of a prefix is its most recent one and a
//     prefix is evicted from its tail: what remains is a shorter prefix that
//     still matches, rather than a tail that never can.
//  3. The global budget (Budgets.Global) is a backstop for tenant budgets
//     that add up to more than the tier holds. When it is exceeded, the tenant
//     holding the most bytes (ties to the smaller name) loses its least
//     recently used block, until the tier fits. A tenant whose budgets add up
//     within the global one is therefore never evicted by another tenant's
//     traffic.
//  4. A block larger than its tenant's budget or the global budget is not
//     stored; it is counted as rejected.
//
// Match keeps what it finds (the tier is inclusive of what it promotes), so
// a block promoted to one worker's L1 can still be promoted to another's.
package cache
