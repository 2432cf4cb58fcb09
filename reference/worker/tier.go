package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/worker/engine"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// L2Client is the shared cache tier as the worker uses it (reference/cache's
// Client implements it). tenant is always the tenant the router
// authenticated: the tier scopes entries by it, on top of the tenant salt
// the keys already start from.
type L2Client interface {
	// Match returns how many leading keys the tier holds for tenant.
	Match(ctx context.Context, tenant string, keys []prefixcache.Key) (int, error)
	// Put stores blocks the L1 evicted, in tenant's scope.
	Put(ctx context.Context, tenant string, keys []prefixcache.Key) error
}

// The tiers GenerateResponse.cached_tier names: the slowest tier that served
// any of the request's cached tokens.
const (
	TierL1 = "l1" // all cached tokens were in this worker's prefix cache
	TierL2 = "l2" // some were promoted from the shared tier for this request
)

// DefaultL2Timeout bounds each call to the L2 tier when Options.L2Timeout is
// zero. A lookup sits on the request's path before prefill, and on a
// loopback or in-zone tier it takes well under a millisecond; past this it
// costs more than prefilling a long prompt would, so it counts as a miss.
const DefaultL2Timeout = 100 * time.Millisecond

// Demotion bounds. The queue absorbs a burst of evictions (a whole L1 of a
// modest worker) without ever blocking the engine loop that causes them;
// beyond it evicted blocks are dropped, which only loses a cache entry. A
// batch bounds one Put.
const (
	demoteQueueBlocks = 4096
	demoteBatchBlocks = 256
)

// TierStats counts the worker's traffic with the L2 tier, in blocks unless
// named otherwise; all zero without one.
type TierStats struct {
	Demoted       uint64 // evicted from L1 and stored in L2
	DemoteDropped uint64 // evicted from L1 and lost: the queue was full, the block had no tenant or its tenant is confidential
	DemoteFailed  uint64 // evicted from L1 and lost: Put to L2 failed
	Promoted      uint64 // found in L2 and inserted back into L1 for a request
	LookupFailed  uint64 // requests whose L2 lookup failed or timed out, served as an L2 miss
	Exported      uint64 // prefilled for a decode worker and stored in L2
}

// tiers joins the L1 prefix cache and the L2 tier.
type tiers struct {
	l1        *prefixcache.Cache
	l2        L2Client
	blockSize int
	timeout   time.Duration
	queue     chan demotion
	log       *slog.Logger
	// confidential are the tenants the router marked confidential (MetadataConfidential): their
	// blocks stay in this attested worker's L1 and never reach the shared tier, which attests
	// nothing. A mark is kept for the worker's life: a tenant's policy does not change under it.
	confidential sync.Map

	demoted, dropped, failed, promoted, lookupFailed, exported atomic.Uint64
}

// demotion is one block evicted from L1, awaiting its Put, or a flush barrier: with flushed
// set it carries no block, and the demoting goroutine closes flushed once every demotion queued
// before it has been put (or has failed).
type demotion struct {
	tenant  string
	key     prefixcache.Key
	flushed chan struct{}
}

// newTiers hooks l2 behind l1; with l2 nil it returns nil, the L1-only worker.
func newTiers(o Options, l1 *prefixcache.Cache, log *slog.Logger) (*tiers, error) {
	if o.L2 == nil {
		return nil, nil
	}
	if l1 == nil {
		return nil, fmt.Errorf("%w: L2 is set but Worker.Engine.PrefixCacheBlocks is 0: no L1 to demote from or promote into", ErrOptions)
	}
	t := &tiers{
		l1: l1, l2: o.L2, blockSize: o.Worker.Engine.BlockSize,
		timeout: o.L2Timeout, queue: make(chan demotion, demoteQueueBlocks), log: log,
	}
	if t.timeout <= 0 {
		t.timeout = DefaultL2Timeout
	}
	l1.OnEvict(t.evicted)
	return t, nil
}

// evicted is the L1's eviction hook. It runs under the L1's lock, often on
// the engine loop, so it only queues, and drops when the queue is full.
func (t *tiers) evicted(tenant string, k prefixcache.Key) {
	if tenant == "" || t.isConfidential(tenant) {
		t.dropped.Add(1) // no scope to demote it into, or a scope the shared tier may not hold
		return
	}
	select {
	case t.queue <- demotion{tenant: tenant, key: k}:
	default:
		t.dropped.Add(1)
	}
}

// markConfidential records that tenant's data may not leave this worker for the shared tier.
func (t *tiers) markConfidential(tenant string) { t.confidential.Store(tenant, true) }

// isConfidential reports whether tenant was marked confidential.
func (t *tiers) isConfidential(tenant string) bool {
	_, ok := t.confidential.Load(tenant)
	return ok
}

// demote sends queued demotions to L2 in batches until ctx ends; what is
// still queued then is lost with the worker's L1.
func (t *tiers) demote(ctx context.Context) {
	batch := make([]demotion, 0, demoteBatchBlocks)
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-t.queue:
			batch = append(batch[:0], d)
		}
	fill:
		for len(batch) < demoteBatchBlocks {
			select {
			case d := <-t.queue:
				batch = append(batch, d)
			default:
				break fill
			}
		}
		t.put(ctx, batch)
		for _, d := range batch {
			if d.flushed != nil {
				close(d.flushed)
			}
		}
	}
}

// flush waits until every block evicted before it was called has been put to L2 (or has failed),
// or until ctx ends. The device hook calls it after pressure shrinks the L1, so that when the hook
// answers, what the shrink demoted is in the shared tier and a repeat finds it there, instead of
// racing the demoting goroutine. A nil tiers has nothing to flush.
func (t *tiers) flush(ctx context.Context) {
	if t == nil {
		return
	}
	done := make(chan struct{})
	select {
	case t.queue <- demotion{flushed: done}:
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// put stores one batch, one Put per tenant, keeping eviction order within
// a tenant so a prefix's first blocks lead.
func (t *tiers) put(ctx context.Context, batch []demotion) {
	var order []string
	byTenant := make(map[string][]prefixcache.Key)
	for _, d := range batch {
		if d.flushed != nil {
			continue // a barrier, not a block
		}
		if byTenant[d.tenant] == nil {
			order = append(order, d.tenant)
		}
		byTenant[d.tenant] = append(byTenant[d.tenant], d.key)
	}
	for _, tenant := range order {
		keys := byTenant[tenant]
		pctx, cancel := context.WithTimeout(ctx, t.timeout)
		err := t.l2.Put(pctx, tenant, keys)
		cancel()
		if err != nil {
			t.failed.Add(uint64(len(keys)))
			t.log.Debug("l2 demotion failed", "tenant", tenant, "blocks", len(keys), "err", err)
			continue
		}
		t.demoted.Add(uint64(len(keys)))
	}
}

// lookup is what the worker learnt about a request's prefix before
// submitting it, to tell afterwards which tier served its cached tokens.
type lookup struct {
	l1, promoted, blockSize int // leading blocks found in L1; blocks promoted after them
}

// promote runs on the request's goroutine, never the engine loop: it peeks
// at L1 and, on a miss (never for a confidential tenant, whose blocks the
// shared tier must not hold or hand back), asks L2 for the blocks after L1's and inserts those
// L2 holds into L1, where the engine's admission Match then finds them. A
// failed lookup is a miss: the cache tier is never a reason to fail a
// request. It hashes the prompt once more than the engine will; the engine
// keeps its own keys so that it works without a worker in front.
func (t *tiers) promote(ctx context.Context, tenant string, salt []byte, prompt []tokenizer.Token) lookup {
	keys := prefixcache.BlockKeys(salt, prompt, t.blockSize)
	l := lookup{l1: t.l1.Peek(keys), blockSize: t.blockSize}
	if l.l1 == len(keys) || t.isConfidential(tenant) {
		return l
	}
	lctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	n, err := t.l2.Match(lctx, tenant, keys[l.l1:])
	if err != nil {
		t.lookupFailed.Add(1)
		t.log.Debug("l2 lookup failed", "tenant", tenant, "err", err)
		return l
	}
	// No more than L1 holds: inserting more would evict the prefix's own
	// first blocks before the engine looks.
	total := min(l.l1+min(max(n, 0), len(keys)-l.l1), t.l1.Capacity())
	if total > l.l1 {
		t.l1.InsertFor(tenant, keys[:total])
		l.promoted = total - l.l1
		t.promoted.Add(uint64(l.promoted))
	}
	return l
}

// tier names the slowest tier that served u.CachedTokens. L2 served some
// only if blocks were promoted and more was cached than L1 alone held
// (capped as the engine caps it, at one token short of the prompt).
func (l lookup) tier(u engine.Usage) string {
	switch {
	case u.CachedTokens == 0:
		return ""
	case l.promoted > 0 && u.CachedTokens > min(l.l1*l.blockSize, u.PromptTokens-1):
		return TierL2
	default:
		return TierL1
	}
}

// stats returns the counters; a nil tiers counts nothing.
func (t *tiers) stats() TierStats {
	if t == nil {
		return TierStats{}
	}
	return TierStats{
		Demoted: t.demoted.Load(), DemoteDropped: t.dropped.Load(), DemoteFailed: t.failed.Load(),
		Promoted: t.promoted.Load(), LookupFailed: t.lookupFailed.Load(), Exported: t.exported.Load(),
	}
}

// TierStats reports the worker's traffic with its L2 tier.
func (s *Server) TierStats() TierStats { return s.tiers.stats() }

// export hands a prefilled prompt's blocks to the shared tier in tenant's scope, synchronously,
// so the decode worker that runs next finds them (disaggregated prefill/decode). It returns the
// blocks stored; a failure stores none and the decode worker prefills the prompt itself.
func (t *tiers) export(ctx context.Context, tenant string, salt []byte, prompt []tokenizer.Token) int {
	keys := prefixcache.BlockKeys(salt, prompt, t.blockSize)
	if len(keys) == 0 || t.isConfidential(tenant) {
		return 0
	}
	pctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if err := t.l2.Put(pctx, tenant, keys); err != nil {
		t.failed.Add(uint64(len(keys)))
		t.log.Debug("l2 export failed", "tenant", tenant, "blocks", len(keys), "err", err)
		return 0
	}
	t.exported.Add(uint64(len(keys)))
	return len(keys)
}
