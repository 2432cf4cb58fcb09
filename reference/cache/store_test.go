package cache

import (
	"errors"
	"testing"

	"github.com/aruntime/arcert/reference/tokenizer"
	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// blockSize is the block size, in tokens, of the keys these tests make.
const blockSize = 4

// keys returns the chained keys of n blocks of a prompt; prompts with
// different ids share no block.
func keys(salt string, id, n int) []Key {
	toks := make([]tokenizer.Token, n*blockSize)
	for i := range toks {
		toks[i] = tokenizer.Token(id*100000 + i)
	}
	return prefixcache.BlockKeys([]byte(salt), toks, blockSize)
}

func newStore(t *testing.T, b Budgets) *Store {
	t.Helper()
	s, err := NewStore(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustPut(t *testing.T, s *Store, tenant string, k []Key, bytes uint64) {
	t.Helper()
	if err := s.Put(tenant, k, bytes); err != nil {
		t.Fatalf("Put(%s): %v", tenant, err)
	}
}

func match(t *testing.T, s *Store, tenant string, k []Key) int {
	t.Helper()
	n, err := s.Match(tenant, k)
	if err != nil {
		t.Fatalf("Match(%s): %v", tenant, err)
	}
	return n
}

func TestOtherTenantNeverMatchesSameKey(t *testing.T) {
	s := newStore(t, Budgets{Global: 1000, Tenant: 100})
	// The same salt for both tenants: the keys are identical, as with a
	// worker configured to share salts. Only the scope keeps them apart.
	k := keys("shared-salt", 1, 3)
	mustPut(t, s, "acme", k, 10)
	if n := match(t, s, "globex", k); n != 0 {
		t.Fatalf("globex matched %d of acme's blocks, want 0", n)
	}
	if n := match(t, s, "acme", k); n != 3 {
		t.Fatalf("acme matched %d, want 3", n)
	}
	st := s.Stats()
	if g := st.Tenants["globex"]; g.Misses != 3 || g.Hits != 0 || g.Bytes != 0 {
		t.Errorf("globex counters = %+v, want 3 misses and nothing held", g)
	}
	if a := st.Tenants["acme"]; a.Hits != 3 || a.Bytes != 30 || a.Blocks != 3 || a.Budget != 100 {
		t.Errorf("acme counters = %+v, want 3 hits, 3 blocks, 30 of 100 bytes", a)
	}
	if st.Total.Hits != 3 || st.Total.Misses != 3 || st.Total.Bytes != 30 || st.Total.Budget != 1000 {
		t.Errorf("total = %+v", st.Total)
	}
}

func TestTenantBudgetEvictsOwnLRUOnly(t *testing.T) {
	s := newStore(t, Budgets{Global: 1000, Tenant: 40, Tenants: map[string]uint64{"big": 80}})
	a, b, c := keys("acme", 1, 2), keys("acme", 2, 2), keys("acme", 3, 2)
	g := keys("globex", 1, 2)
	mustPut(t, s, "globex", g, 10)
	mustPut(t, s, "acme", a, 10)
	mustPut(t, s, "acme", b, 10) // acme full: 40 of 40
	match(t, s, "acme", a)       // a is now more recent than b
	mustPut(t, s, "acme", c, 10) // evicts b, the least recently used
	if match(t, s, "acme", b) != 0 || match(t, s, "acme", a) != 2 || match(t, s, "acme", c) != 2 {
		t.Error("acme's budget did not evict its least recently used prompt")
	}
	if match(t, s, "globex", g) != 2 {
		t.Error("acme's puts evicted globex's blocks")
	}
	mustPut(t, s, "big", keys("big", 1, 8), 10) // its own budget of 80 holds all 8
	st := s.Stats()
	if st.Tenants["acme"].Evictions != 2 || st.Tenants["globex"].Evictions != 0 || st.Tenants["big"].Blocks != 8 {
		t.Errorf("tenants = %+v", st.Tenants)
	}
}

func TestPrefixEvictedFromItsTail(t *testing.T) {
	s := newStore(t, Budgets{Global: 1000, Tenant: 30})
	k := keys("acme", 1, 5)
	mustPut(t, s, "acme", k, 10) // 5 blocks into 3: the last two go
	if n := match(t, s, "acme", k); n != 3 {
		t.Fatalf("matched %d, want the 3 leading blocks", n)
	}
	// A new prompt takes one block: the old prefix loses its tail again.
	mustPut(t, s, "acme", keys("acme", 2, 1), 10)
	if n := match(t, s, "acme", k); n != 2 {
		t.Fatalf("matched %d, want 2", n)
	}
}

func TestGlobalBudgetEvictsLargestTenant(t *testing.T) {
	// Tenant budgets add up to more than the tier: 3 x 60 > 100.
	s := newStore(t, Budgets{Global: 100, Tenant: 60})
	a, b, c := keys("a", 1, 1), keys("b", 1, 6), keys("c", 1, 3)
	mustPut(t, s, "a", a, 10) // 10
	mustPut(t, s, "b", b, 10) // 70
	mustPut(t, s, "c", c, 10) // 100: full, nothing evicted yet
	if e := s.Stats().Total.Evictions; e != 0 {
		t.Fatalf("evictions at exactly the global budget = %d, want 0", e)
	}
	// 120: b is the largest (60, then 50), so b loses 2 from its tail,
	// although a caused the pressure.
	mustPut(t, s, "a", keys("a", 2, 2), 10)
	st := s.Stats()
	if st.Total.Bytes != 100 || st.Tenants["b"].Evictions != 2 || st.Tenants["a"].Evictions != 0 || st.Tenants["c"].Evictions != 0 {
		t.Fatalf("after global pressure: %+v", st)
	}
	if match(t, s, "b", b) != 4 || match(t, s, "c", c) != 3 || match(t, s, "a", a) != 1 {
		t.Error("global eviction took the wrong blocks")
	}
	// a (30) grows to 40 and ties with b (40): the tie goes to the smaller
	// name, so a's own growth costs a.
	mustPut(t, s, "a", keys("a", 3, 1), 10)
	if st := s.Stats(); st.Tenants["a"].Evictions != 1 || st.Tenants["b"].Evictions != 2 {
		t.Errorf("second pressure: %+v, want a to lose one block", st.Tenants)
	}
}

func TestOversizedBlocksRejected(t *testing.T) {
	s := newStore(t, Budgets{Global: 100, Tenant: 50, Tenants: map[string]uint64{"optout": 0}})
	mustPut(t, s, "acme", keys("acme", 1, 2), 60)
	mustPut(t, s, "optout", keys("optout", 1, 1), 1)
	st := s.Stats()
	if st.Total.Rejected != 3 || st.Total.Blocks != 0 || st.Tenants["optout"].Rejected != 1 {
		t.Fatalf("stats = %+v, want 3 rejected, nothing held", st)
	}
}

func TestStoreArguments(t *testing.T) {
	s := newStore(t, Budgets{Global: 100, Tenant: 50})
	k := keys("acme", 1, 1)
	if _, err := s.Match("", k); !errors.Is(err, ErrNoTenant) {
		t.Errorf("Match without tenant: %v, want ErrNoTenant", err)
	}
	if err := s.Put("", k, 1); !errors.Is(err, ErrNoTenant) {
		t.Errorf("Put without tenant: %v, want ErrNoTenant", err)
	}
	if err := s.Put("acme", k, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put of 0-byte blocks: %v, want ErrInvalid", err)
	}
	for _, b := range []Budgets{{}, {Global: 1, Tenants: map[string]uint64{"": 1}}} {
		if _, err := NewStore(b); !errors.Is(err, ErrOptions) {
			t.Errorf("NewStore(%+v): %v, want ErrOptions", b, err)
		}
	}
	b := Budgets{Global: 100, Tenants: map[string]uint64{"acme": 50}}
	s = newStore(t, b)
	b.Tenants["acme"] = 0 // the store keeps its own copy
	mustPut(t, s, "acme", k, 10)
	if match(t, s, "acme", k) != 1 {
		t.Error("editing the caller's Budgets changed the store")
	}
}
