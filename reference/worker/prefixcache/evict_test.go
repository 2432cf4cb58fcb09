package prefixcache

import (
	"slices"
	"testing"
)

// evicted records what an EvictFunc was told, in order.
type evicted struct {
	owners []string
	keys   []Key
}

func (e *evicted) hook(owner string, k Key) {
	e.owners = append(e.owners, owner)
	e.keys = append(e.keys, k)
}

func TestOnEvictNamesOwnerInLRUOrder(t *testing.T) {
	c := New(3)
	var got evicted
	c.OnEvict(got.hook)
	a := BlockKeys([]byte("a"), seq(0, 16), 8) // 2 blocks
	b := BlockKeys([]byte("b"), seq(0, 16), 8)
	c.InsertFor("acme", a)
	c.InsertFor("globex", b) // 4 blocks in 3: acme's first block goes
	if want := []string{"acme"}; !slices.Equal(got.owners, want) || got.keys[0] != a[0] {
		t.Fatalf("after insert: evicted %v %x, want acme's first block", got.owners, got.keys)
	}
	c.InsertFor("initech", a) // a[0] comes back for initech, a[1] keeps acme: owners are not rewritten
	c.Resize(0)
	wantOwners := []string{"acme", "globex", "globex", "initech", "acme"}
	wantKeys := []Key{a[0], b[0], b[1], a[0], a[1]}
	if !slices.Equal(got.owners, wantOwners) || !slices.Equal(got.keys, wantKeys) {
		t.Fatalf("evicted owners %v, want %v (keys equal: %v)", got.owners, wantOwners, slices.Equal(got.keys, wantKeys))
	}
	c.OnEvict(nil)
	c.InsertFor("acme", a) // capacity 0: evicted at once, to no hook
	if len(got.keys) != len(wantKeys) {
		t.Fatalf("removed hook still called: %d evictions", len(got.keys))
	}
}

func TestPeekTouchesNothing(t *testing.T) {
	c := New(2)
	keys := BlockKeys(nil, seq(0, 24), 8) // k0..k2
	c.Insert(keys[:2])                    // LRU order k0, k1
	if n := c.Peek(keys); n != 2 {
		t.Fatalf("peek = %d, want 2", n)
	}
	if n := c.Peek(keys[1:]); n != 1 {
		t.Fatalf("peek from k1 = %d, want 1", n)
	}
	if s := c.Stats(); s != (Stats{}) {
		t.Fatalf("stats after peeks = %+v, want zero", s)
	}
	c.Insert(keys[2:]) // k0 is still least recently used, so it goes
	if c.Peek(keys[:1]) != 0 || c.Peek(keys[1:]) != 2 {
		t.Fatal("peek changed the LRU order")
	}
}
