// Package prefixcache is the worker's L1 prefix cache: which prompt blocks
// already have KV state on this worker.
//
// Keys are chained block hashes that start from a tenant-derived salt, so a
// key names a whole prefix (not just one block) and two tenants with
// different salts never share an entry, even for identical prompts; that is
// what keeps prefix-cache timing from leaking one tenant's prompts to
// another. The cache is an LRU over blocks whose capacity can shrink at run
// time when the device comes under memory pressure. Each block carries the
// owner that inserted it (the worker's tenant) and an optional hook hears of
// every eviction, so evicted blocks can be demoted to the shared L2 tier in
// the right tenant's scope instead of being lost.
package prefixcache

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/aruntime/arcert/reference/tokenizer"
)

// Key identifies one full block together with everything before it and the
// salt it was started from.
type Key [32]byte

// BlockKeys returns one key per full block of tokens: key_0 =
// sha256(salt || block_0), key_i = sha256(key_{i-1} || block_i), tokens as
// little-endian uint32. A trailing partial block gets no key, because its KV
// state cannot be reused block-wise. blockSize < 1 yields no keys.
func BlockKeys(salt []byte, tokens []tokenizer.Token, blockSize int) []Key {
	if blockSize < 1 {
		return nil
	}
	n := len(tokens) / blockSize
	if n == 0 {
		return nil
	}
	keys := make([]Key, n)
	buf := make([]byte, 4*blockSize)
	h := sha256.New()
	for i := range n {
		h.Reset()
		if i == 0 {
			h.Write(salt)
		} else {
			h.Write(keys[i-1][:])
		}
		for j, t := range tokens[i*blockSize : (i+1)*blockSize] {
			binary.LittleEndian.PutUint32(buf[4*j:], uint32(t))
		}
		h.Write(buf)
		h.Sum(keys[i][:0])
	}
	return keys
}

// Stats counts cache outcomes in blocks since the cache was created.
type Stats struct {
	Hits      uint64 // blocks found by Match
	Misses    uint64 // blocks Match looked for and did not find
	Evictions uint64 // blocks dropped to stay within capacity
}

// EvictFunc hears of one block dropped to stay within capacity and the owner
// it was inserted for. It runs with the cache locked, on whichever goroutine
// caused the eviction (the engine loop among them), so it must be quick,
// must not block and must not call back into the Cache.
type EvictFunc func(owner string, k Key)

// Cache is an LRU set of block keys, safe for concurrent use.
type Cache struct {
	mu       sync.Mutex
	capacity int
	lru      *list.List // of entry; front is most recently used
	index    map[Key]*list.Element
	stats    Stats
	onEvict  EvictFunc
}

// entry is one cached block and who inserted it.
type entry struct {
	key   Key
	owner string
}

// New returns an empty cache holding at most capacityBlocks blocks; a
// capacity below zero is treated as zero (nothing is ever kept).
func New(capacityBlocks int) *Cache {
	return &Cache{
		capacity: max(capacityBlocks, 0),
		lru:      list.New(),
		index:    make(map[Key]*list.Element),
	}
}

// Match returns how many leading keys are cached and marks them as recently
// used. It stops at the first missing key: a later block is useless without
// the ones before it. Blocks after the first miss count as misses.
func (c *Cache) Match(keys []Key) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range keys {
		e, ok := c.index[k]
		if !ok {
			break
		}
		c.lru.MoveToFront(e)
		n++
	}
	c.stats.Hits += uint64(n)
	c.stats.Misses += uint64(len(keys) - n)
	return n
}

// Peek returns how many leading keys are cached, like Match, but leaves the
// LRU order and the counters alone: the worker peeks before deciding whether
// to ask the L2 tier, and the engine's Match at admission is the lookup that
// counts.
func (c *Cache) Peek(keys []Key) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range keys {
		if _, ok := c.index[k]; !ok {
			break
		}
		n++
	}
	return n
}

// Insert adds keys with no owner; see InsertFor.
func (c *Cache) Insert(keys []Key) { c.InsertFor("", keys) }

// InsertFor adds keys as most recently used, evicting least recently used
// blocks beyond capacity. Keys are inserted in order, so the last block of
// the prefix is the most recent. New blocks are tagged with owner, which the
// EvictFunc is told when they are evicted; a block already cached keeps the
// owner it has.
func (c *Cache) InsertFor(owner string, keys []Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		if e, ok := c.index[k]; ok {
			c.lru.MoveToFront(e)
			continue
		}
		c.index[k] = c.lru.PushFront(entry{key: k, owner: owner})
	}
	c.evictLocked()
}

// OnEvict sets the hook told of every later eviction; nil removes it.
func (c *Cache) OnEvict(f EvictFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onEvict = f
}

// Resize changes the capacity, evicting least recently used blocks when it
// shrinks; the worker calls it when device memory pressure changes.
func (c *Cache) Resize(capacityBlocks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.capacity = max(capacityBlocks, 0)
	c.evictLocked()
}

// Len returns the number of cached blocks.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Capacity returns the current capacity in blocks.
func (c *Cache) Capacity() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.capacity
}

// Stats returns a snapshot of the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Cache) evictLocked() {
	for c.lru.Len() > c.capacity {
		ev := c.lru.Remove(c.lru.Back()).(entry)
		delete(c.index, ev.key)
		c.stats.Evictions++
		if c.onEvict != nil {
			c.onEvict(ev.owner, ev.key)
		}
	}
}
