package routing

import (
	"fmt"
	"math"
	"sync/atomic"
)

// AffinityPrefixBytes is how much of a prompt AffinityKey looks at: enough
// to tell shared system prompts and documents apart, little enough to hash
// on every request. Longer inputs are cut here, so callers may pass the
// whole prompt.
const AffinityPrefixBytes = 256

// FNV-1a 64-bit parameters (see hash/fnv), inlined so the key costs no
// allocation on the request path.
const (
	fnvOffset64 uint64 = 14695981039346656037
	fnvPrime64  uint64 = 1099511628211
)

// AffinityKey is the prefix-affinity key of a request: FNV-64a over the
// tenant, a 0 byte and the first AffinityPrefixBytes of the prompt. Requests
// of one tenant that share a prompt prefix get the same key, so Pick sends
// them to the worker whose L1 prefix cache already holds it; the tenant is
// part of the key because tenants never share cache entries anyway. The
// result is never 0, which Pick reads as "no affinity".
func AffinityKey(tenant, promptPrefix string) uint64 {
	if len(promptPrefix) > AffinityPrefixBytes {
		promptPrefix = promptPrefix[:AffinityPrefixBytes]
	}
	h := fnvOffset64
	for i := 0; i < len(tenant); i++ {
		h = (h ^ uint64(tenant[i])) * fnvPrime64
	}
	h *= fnvPrime64 // the 0 separator: h ^ 0 == h
	for i := 0; i < len(promptPrefix); i++ {
		h = (h ^ uint64(promptPrefix[i])) * fnvPrime64
	}
	if h == 0 {
		return 1
	}
	return h
}

// Lease is one request's claim on a worker: it counts as outstanding on the
// worker until Done.
type Lease struct {
	Worker *Worker
	done   atomic.Bool
}

// Done releases the lease. It is idempotent, so callers can both defer it
// and call it early once the stream ends.
func (l *Lease) Done() {
	if l.done.CompareAndSwap(false, true) {
		l.Worker.outstanding.Add(-1)
	}
}

// Pick leases a healthy worker serving model. It prefers the least
// outstanding worker, but when affinity is non-zero it prefers the
// rendezvous-hash winner for affinity among the healthy workers as long as
// that winner's outstanding is within AffinitySlack of the least: prefix
// cache hits are worth a little queueing, not unbounded hot-spotting, and
// not a wait for a batch slot while another worker has one free. The
// rendezvous hash moves only the keys of a worker that leaves or joins.
// Ties between equally loaded workers rotate.
func (p *Pool) Pick(model string, affinity uint64) (*Lease, error) {
	return p.PickWhere(model, affinity, nil)
}

// PickWhere is Pick among the workers keep accepts; nil keep accepts every
// worker. The router uses it to honour a fallback decision: once a region
// and pool are chosen by the tenant's policy, load and affinity may choose
// the worker, but never one outside that place. ErrNoWorker then means no
// accepted worker is healthy, whatever the others are.
func (p *Pool) PickWhere(model string, affinity uint64, keep func(*Worker) bool) (*Lease, error) {
	// The set is loaded under p.mu, so that Remove's barrier on p.mu sees every lease taken on
	// a worker it removed (see Remove).
	p.mu.Lock()
	ws := p.set.Load().byModel[model]
	if len(ws) == 0 {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrUnknownModel, model)
	}
	start := p.next % len(ws)
	p.next = (p.next + 1) % (math.MaxInt / 2) // stays non-negative
	// A worker under device pressure sheds new work, so it is picked only when every accepted
	// worker is: then its device_pressure refusal is the honest answer.
	relieved := false
	for _, w := range ws {
		relieved = relieved || (w.Healthy() && (keep == nil || keep(w)) && !w.UnderPressure())
	}
	var least, affine *Worker
	leastOut, bestWeight := int64(math.MaxInt64), uint64(0)
	for i := range ws {
		w := ws[(start+i)%len(ws)]
		if !w.Healthy() || (keep != nil && !keep(w)) || (relieved && w.UnderPressure()) {
			continue
		}
		if o := w.outstanding.Load(); o < leastOut {
			least, leastOut = w, o
		}
		if affinity != 0 {
			if wt := rendezvous(affinity, w.idHash); affine == nil || wt > bestWeight {
				affine, bestWeight = w, wt
			}
		}
	}
	if least == nil {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrNoWorker, model)
	}
	chosen := least
	if affine != nil && affine.outstanding.Load() <= leastOut+p.slack && (!affine.batchFull() || least.batchFull()) {
		chosen = affine
	}
	chosen.outstanding.Add(1)
	p.mu.Unlock()
	return &Lease{Worker: chosen}, nil
}

// rendezvous is the highest-random-weight score of a worker for a key: the
// splitmix64 finalizer over both, so every bit of the key moves the score.
func rendezvous(key, worker uint64) uint64 {
	z := key ^ (worker * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Serves reports whether a healthy worker serves model now. The router asks before admitting, so
// that with every worker down a request fails at once instead of queueing for a slot that no
// worker offers.
func (p *Pool) Serves(model string) bool { return p.ServesWhere(model, nil) }

// ServesWhere is Serves among the workers keep accepts (nil accepts every worker): whether one
// place, such as a region's pool, can serve model now.
func (p *Pool) ServesWhere(model string, keep func(*Worker) bool) bool {
	for _, w := range p.set.Load().byModel[model] {
		if w.Healthy() && (keep == nil || keep(w)) {
			return true
		}
	}
	return false
}
