package cache

import (
	"container/list"
	"fmt"
	"sync"

	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// Key is the L1's chained block key: the tiers share keys so that a block
// moves between them unchanged.
type Key = prefixcache.Key

// Counters count blocks since the tier started, and what is held now.
type Counters struct {
	Hits      uint64 // blocks Match found
	Misses    uint64 // blocks Match looked for and did not find
	Evictions uint64 // blocks dropped to stay within a budget
	Rejected  uint64 // blocks Put did not store: one block exceeds a budget
	Blocks    uint64 // blocks held now
	Bytes     uint64 // bytes held now
	Budget    uint64 // the byte budget Bytes is held to
}

// Stats is a snapshot of the tier: totals, and the counters of every tenant
// that has called Match or Put.
type Stats struct {
	Total   Counters
	Tenants map[string]Counters
}

// Store is the tier's in-memory state, safe for concurrent use. Its calls
// take a lock and never block otherwise, so they take no context.
type Store struct {
	mu      sync.Mutex
	budgets Budgets
	scopes  map[string]*scope
	total   Counters
}

// scope is one tenant's part of the tier: its own index, so that another
// tenant's lookup cannot reach it, and its own LRU list for its budget.
type scope struct {
	name  string
	lru   *list.List // of *block; front is most recently used
	index map[Key]*list.Element
	c     Counters
}

// block is one stored prefix block.
type block struct {
	key   Key
	bytes uint64
}

// NewStore returns an empty tier held to b.
func NewStore(b Budgets) (*Store, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	s := &Store{budgets: b.clone(), scopes: make(map[string]*scope)}
	s.total.Budget = b.Global
	return s, nil
}

// Match returns how many leading keys tenant's scope holds, and marks them
// used, the last first (policy rule 2). It stops at the first missing key:
// a later block is useless without the ones before it.
func (s *Store) Match(tenant string, keys []Key) (int, error) {
	if tenant == "" {
		return 0, ErrNoTenant
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.scopeLocked(tenant)
	n := 0
	for n < len(keys) && sc.index[keys[n]] != nil {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		sc.lru.MoveToFront(sc.index[keys[i]])
	}
	hits, misses := uint64(n), uint64(len(keys)-n)
	sc.c.Hits += hits
	sc.c.Misses += misses
	s.total.Hits += hits
	s.total.Misses += misses
	return n, nil
}

// Put stores keys in tenant's scope, blockBytes each, as most recently used
// with the first key the most recent (policy rule 2), then evicts to stay
// within the tenant's and the global budget (rules 1 and 3). A key already
// stored is touched and recharged at blockBytes.
func (s *Store) Put(tenant string, keys []Key, blockBytes uint64) error {
	if tenant == "" {
		return ErrNoTenant
	}
	if blockBytes == 0 {
		return fmt.Errorf("%w: block bytes is 0", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.scopeLocked(tenant)
	if blockBytes > sc.c.Budget || blockBytes > s.budgets.Global {
		sc.c.Rejected += uint64(len(keys))
		s.total.Rejected += uint64(len(keys))
		return nil
	}
	for i := len(keys) - 1; i >= 0; i-- {
		if e := sc.index[keys[i]]; e != nil {
			s.uncharge(sc, e.Value.(*block))
			e.Value.(*block).bytes = blockBytes
			s.charge(sc, blockBytes)
			sc.lru.MoveToFront(e)
			continue
		}
		sc.index[keys[i]] = sc.lru.PushFront(&block{key: keys[i], bytes: blockBytes})
		s.charge(sc, blockBytes)
	}
	for sc.c.Bytes > sc.c.Budget {
		s.evictLocked(sc)
	}
	for s.total.Bytes > s.budgets.Global {
		s.evictLocked(s.largestLocked())
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Total: s.total, Tenants: make(map[string]Counters, len(s.scopes))}
	for name, sc := range s.scopes {
		st.Tenants[name] = sc.c
	}
	return st
}

// scopeLocked returns tenant's scope, creating it empty. Scopes are kept
// when they empty, with their counters: tenants are the authenticated
// tenants of the configuration, a bounded set.
func (s *Store) scopeLocked(tenant string) *scope {
	sc := s.scopes[tenant]
	if sc == nil {
		sc = &scope{name: tenant, lru: list.New(), index: make(map[Key]*list.Element)}
		sc.c.Budget = s.budgets.of(tenant)
		s.scopes[tenant] = sc
	}
	return sc
}

// evictLocked drops sc's least recently used block.
func (s *Store) evictLocked(sc *scope) {
	b := sc.lru.Remove(sc.lru.Back()).(*block)
	delete(sc.index, b.key)
	s.uncharge(sc, b)
	sc.c.Evictions++
	s.total.Evictions++
}

// largestLocked returns the scope holding the most bytes, ties to the
// smaller name so that the choice does not depend on map order. It is only
// called while the tier holds bytes, so some scope is not empty.
func (s *Store) largestLocked() *scope {
	var big *scope
	for _, sc := range s.scopes {
		if big == nil || sc.c.Bytes > big.c.Bytes || (sc.c.Bytes == big.c.Bytes && sc.name < big.name) {
			big = sc
		}
	}
	return big
}

func (s *Store) charge(sc *scope, n uint64) {
	sc.c.Bytes += n
	sc.c.Blocks++
	s.total.Bytes += n
	s.total.Blocks++
}

func (s *Store) uncharge(sc *scope, b *block) {
	sc.c.Bytes -= b.bytes
	sc.c.Blocks--
	s.total.Bytes -= b.bytes
	s.total.Blocks--
}
