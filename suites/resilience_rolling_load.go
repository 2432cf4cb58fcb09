package suites

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
)

// rollingLoad is steady open-loop load of unknown length: a rolling restart lasts as long as the
// routers take to stop and come back, which a scenario plan's fixed phases (and traffic.OpenLoop's fixed duration) cannot know. Requests
// leave at rate per second whether or not earlier ones have been answered.
type rollingLoad struct {
	rate   float64
	stream uint64 // the seeded random stream of the requests' prompts
	pick   func(r *rand.Rand, i int) loadReq
	send   func(ctx context.Context, rq loadReq) chaosledger.Entry
}

// start sends load until the returned stop is called, which waits for every request sent and
// returns their entries in issue order.
func (o rollingLoad) start(ctx context.Context) (stop func() []chaosledger.Entry) {
	var (
		mu      sync.Mutex
		entries []chaosledger.Entry
		wg      sync.WaitGroup
	)
	quit, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
		defer tick.Stop()
		for seq := 1; ; seq++ {
			select {
			case <-quit:
				return
			case <-ctx.Done():
				return
			case at := <-tick.C:
				wg.Go(func() {
					rq := o.pick(rand.New(rand.NewPCG(uint64(env.Seed)+o.stream, uint64(seq))), seq-1)
					rctx, cancel := context.WithTimeout(ctx, tenantDeadline(rq.tenant)+deadlineGrace+hungMargin)
					defer cancel()
					e := o.send(rctx, rq)
					e.Seq, e.Scheduled = seq, at
					mu.Lock()
					entries = append(entries, e)
					mu.Unlock()
				})
			}
		}
	}()
	return func() []chaosledger.Entry {
		close(quit)
		<-ended
		wg.Wait()
		slices.SortFunc(entries, func(a, b chaosledger.Entry) int { return a.Seq - b.Seq })
		return entries
	}
}

// sendThrough is sendVia over the given clients (a balancer's view of the routers) rather than
// env's.
func sendThrough(ctx context.Context, h *driver.Client, g *grpcdriver.Client, rq loadReq) chaosledger.Entry {
	var e chaosledger.Entry
	switch rq.via {
	case viaGRPC, viaGRPCStream:
		res, err := g.Complete(ctx, rq.tenant.Key, grpcRequest(rq.body, ""))
		e = entryOfGRPC(rq.tenant, res, err)
	default:
		res, err := h.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: rq.tenant.Key, Body: rq.body, Header: rq.hdr})
		e = entryOf(rq.tenant, res, err)
	}
	e.Path = rq.via
	if e.Path == "" {
		e.Path = viaHTTP
	}
	return e
}
