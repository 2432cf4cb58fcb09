package engine

import (
	"context"
	"testing"

	"github.com/aruntime/arcert/reference/worker/prefixcache"
)

// BenchmarkEngineZeroCost measures the loop's own overhead per request:
// with a zero cost model, time per op is scheduling, hashing and channel
// traffic only.
func BenchmarkEngineZeroCost(b *testing.B) {
	cfg := Config{MaxBatch: 64, MaxWaiting: 4096, KVCapacityTokens: 1 << 20, BlockSize: 16}
	e, err := New(cfg, prefixcache.New(4096), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	defer func() { cancel(); <-errc }()

	p := prompt(0, 64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ch, err := e.Submit(context.Background(), Request{Salt: []byte("bench"), Prompt: p, MaxTokens: 4})
			if err != nil {
				b.Error(err)
				return
			}
			for ev := range ch {
				if ev.Err != nil {
					b.Error(ev.Err)
				}
			}
		}
	})
}
