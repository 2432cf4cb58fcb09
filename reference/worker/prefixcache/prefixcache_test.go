package prefixcache

import (
	"sync"
	"testing"

	"github.com/aruntime/arcert/reference/tokenizer"
)

func seq(start, n int) []tokenizer.Token {
	out := make([]tokenizer.Token, n)
	for i := range out {
		out[i] = tokenizer.Token(start + i)
	}
	return out
}

func TestBlockKeysPartialBlock(t *testing.T) {
	salt := []byte("tenant-a")
	if got := len(BlockKeys(salt, seq(0, 15), 16)); got != 0 {
		t.Fatalf("15 tokens, block 16: %d keys, want 0", got)
	}
	if got := len(BlockKeys(salt, seq(0, 33), 16)); got != 2 {
		t.Fatalf("33 tokens, block 16: %d keys, want 2", got)
	}
	if got := BlockKeys(salt, seq(0, 33), 0); got != nil {
		t.Fatalf("block size 0: %v, want nil", got)
	}
	// The keys of a prefix are the leading keys of any longer prompt.
	short := BlockKeys(salt, seq(0, 32), 16)
	long := BlockKeys(salt, seq(0, 64), 16)
	for i := range short {
		if short[i] != long[i] {
			t.Fatalf("key %d of a prefix differs from the longer prompt's", i)
		}
	}
}

func TestBlockKeysChained(t *testing.T) {
	salt := []byte("s")
	a := seq(0, 32)
	b := append(seq(100, 16), seq(16, 16)...) // same second block, different first
	ka, kb := BlockKeys(salt, a, 16), BlockKeys(salt, b, 16)
	if ka[1] == kb[1] {
		t.Fatal("second block key ignores the first block")
	}
}

func TestSameSaltHitsDifferentSaltMisses(t *testing.T) {
	c := New(100)
	toks := seq(0, 64)
	a := BlockKeys([]byte("tenant-a"), toks, 16)
	b := BlockKeys([]byte("tenant-b"), toks, 16)
	if n := c.Match(a); n != 0 {
		t.Fatalf("empty cache matched %d", n)
	}
	c.Insert(a)
	if n := c.Match(BlockKeys([]byte("tenant-a"), toks, 16)); n != 4 {
		t.Fatalf("same salt matched %d, want 4", n)
	}
	if n := c.Match(b); n != 0 {
		t.Fatalf("different salt matched %d, want 0", n)
	}
	if s := c.Stats(); s.Hits != 4 || s.Misses != 8 {
		t.Fatalf("stats = %+v, want 4 hits, 8 misses", s)
	}
}

func TestMatchStopsAtFirstMiss(t *testing.T) {
	c := New(100)
	keys := BlockKeys(nil, seq(0, 48), 16)
	c.Insert([]Key{keys[0], keys[2]})
	if n := c.Match(keys); n != 1 {
		t.Fatalf("matched %d, want 1", n)
	}
}

func TestLRUEvictionOrder(t *testing.T) {
	c := New(3)
	keys := BlockKeys(nil, seq(0, 4*8), 8) // k0..k3
	k := func(i int) []Key { return keys[i : i+1] }
	c.Insert(k(0))
	c.Insert(k(1))
	c.Insert(k(2))
	c.Match(k(0)) // k0 now most recent; LRU order k1, k2, k0
	c.Insert(k(3))
	if c.Len() != 3 {
		t.Fatalf("len = %d, want 3", c.Len())
	}
	if c.Match(k(1)) != 0 {
		t.Fatal("k1 should have been evicted first")
	}
	for _, i := range []int{0, 2, 3} {
		if c.Match(k(i)) != 1 {
			t.Fatalf("k%d evicted, want kept", i)
		}
	}
	if e := c.Stats().Evictions; e != 1 {
		t.Fatalf("evictions = %d, want 1", e)
	}
}

func TestResize(t *testing.T) {
	c := New(4)
	keys := BlockKeys(nil, seq(0, 64), 16)
	c.Insert(keys)
	c.Match(keys[:1]) // k0 most recent; LRU order k1, k2, k3, k0
	c.Resize(2)
	if c.Len() != 2 || c.Capacity() != 2 {
		t.Fatalf("len=%d cap=%d, want 2, 2", c.Len(), c.Capacity())
	}
	if c.Match(keys[:1]) != 1 || c.Match(keys[3:4]) != 1 {
		t.Fatal("most recent blocks k0, k3 should survive")
	}
	if c.Match(keys[1:2]) != 0 {
		t.Fatal("k1 should be evicted")
	}
	c.Resize(-1)
	if c.Len() != 0 || c.Capacity() != 0 {
		t.Fatalf("len=%d cap=%d after Resize(-1)", c.Len(), c.Capacity())
	}
	c.Insert(keys)
	if c.Len() != 0 {
		t.Fatal("zero-capacity cache kept blocks")
	}
	if e := c.Stats().Evictions; e != 8 {
		t.Fatalf("evictions = %d, want 8", e)
	}
}

func TestConcurrent(t *testing.T) {
	c := New(64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			keys := BlockKeys([]byte{byte(g)}, seq(0, 256), 16)
			for range 100 {
				c.Insert(keys)
				c.Match(keys)
				c.Resize(32 + g)
				_ = c.Stats()
			}
		})
	}
	wg.Wait()
	if c.Len() > c.Capacity() {
		t.Fatalf("len %d > capacity %d", c.Len(), c.Capacity())
	}
}
