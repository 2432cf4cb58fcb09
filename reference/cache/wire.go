package cache

import (
	"fmt"
	"maps"
	"slices"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// MaxKeysPerCall bounds the keys of one Match or Put, so one call cannot
// hold the tier's lock for long or exceed gRPC's default 4 MiB message. It
// is 8192 blocks of 16 tokens, a 128k-token prompt, twice over; the Client
// splits longer Puts and truncates longer Matches.
const MaxKeysPerCall = 16384

// keysFromWire converts and checks the keys of a request.
func keysFromWire(raw [][]byte) ([]Key, error) {
	if len(raw) > MaxKeysPerCall {
		return nil, fmt.Errorf("%w: %d keys, at most %d per call", ErrInvalid, len(raw), MaxKeysPerCall)
	}
	keys := make([]Key, len(raw))
	for i, b := range raw {
		if len(b) != len(Key{}) {
			return nil, fmt.Errorf("%w: key %d is %d bytes, want %d", ErrInvalid, i, len(b), len(Key{}))
		}
		copy(keys[i][:], b)
	}
	return keys, nil
}

// keysToWire is the inverse of keysFromWire.
func keysToWire(keys []Key) [][]byte {
	raw := make([][]byte, len(keys))
	for i := range keys {
		raw[i] = keys[i][:]
	}
	return raw
}

func countersToWire(c Counters) *arcertv1.CacheCounters {
	return &arcertv1.CacheCounters{
		Hits: c.Hits, Misses: c.Misses, Evictions: c.Evictions, Rejected: c.Rejected,
		Blocks: c.Blocks, Bytes: c.Bytes, BudgetBytes: c.Budget,
	}
}

func countersFromWire(c *arcertv1.CacheCounters) Counters {
	return Counters{
		Hits: c.GetHits(), Misses: c.GetMisses(), Evictions: c.GetEvictions(), Rejected: c.GetRejected(),
		Blocks: c.GetBlocks(), Bytes: c.GetBytes(), Budget: c.GetBudgetBytes(),
	}
}

// statsToWire lists tenants sorted, so responses are stable.
func statsToWire(st Stats) *arcertv1.CacheStatsResponse {
	resp := &arcertv1.CacheStatsResponse{Total: countersToWire(st.Total)}
	for _, name := range slices.Sorted(maps.Keys(st.Tenants)) {
		resp.Tenants = append(resp.Tenants, &arcertv1.CacheTenantStats{Tenant: name, Counters: countersToWire(st.Tenants[name])})
	}
	return resp
}

func statsFromWire(resp *arcertv1.CacheStatsResponse) Stats {
	st := Stats{Total: countersFromWire(resp.GetTotal()), Tenants: make(map[string]Counters, len(resp.GetTenants()))}
	for _, t := range resp.GetTenants() {
		st.Tenants[t.GetTenant()] = countersFromWire(t.GetCounters())
	}
	return st
}
