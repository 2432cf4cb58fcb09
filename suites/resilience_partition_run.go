package suites

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// partitionHold is how long the router stays cut: longer than every NATS client timeout of the
// reference (a JetStream request's 5 s, the batch queue's 3 s, an evidence publish's 1 s before
// it spools, the peers bucket's 5 s TTL), so the router cannot simply wait the cut out.
const partitionHold = 8 * time.Second

// partitionOtherEvery: of each run of this many cycles (every tenant over every wire), the last
// goes to the router that stays connected, the rest to the cut one: most of the load meets the
// partition, and every tenant and wire also reaches the other router, whose evidence is judged too.
const partitionOtherEvery = 4

// partitionRouter is the router of request i (from 0) when one cycle is cycle requests.
func partitionRouter(i, cycle, cut, other int) int {
	if (i/max(cycle, 1))%partitionOtherEvery == partitionOtherEvery-1 {
		return other
	}
	return cut
}

// pinnedRun is faultRun with each request sent to a router of its choosing rather than the next
// in turn: the partition must be met by the router it cuts.
type pinnedRun struct {
	name       string
	stream     uint64
	tenants    []target.Tenant
	cut, other int
	hold       time.Duration
	// inject puts the fault in force for hold and returns what heals it.
	inject func(ctx context.Context, hold time.Duration) (heal func() error)
	// onCut sees every entry of a request to the cut router, from the senders' goroutines.
	onCut func(e chaosledger.Entry)
}

// run plays the pinned run as a faultRun whose requests go to the router partitionRouter picks;
// its fault holds long enough for minSettled requests of every tenant on every wire.
func (pr pinnedRun) run(ctx context.Context) runResult {
	rate := faultRate()
	Expect(rate).To(BeNumerically(">", 0), "the target declares no capacity.requests_per_second to size the fault run %s from", pr.name)
	settle := time.Duration(leadSlack * float64(minSettled*len(pr.tenants)*len(faultPaths())) / rate * float64(time.Second))
	fr := faultRun{name: pr.name, stream: pr.stream, rate: rate, hold: max(pr.hold, detection()+settle)}
	hold := fr.holdTime(rate)
	pick := rotate(pr.tenants, 6, nil)
	cycle := len(pr.tenants) * len(faultPaths())
	fr.inject = func(ctx context.Context) func() error { return pr.inject(ctx, hold) }
	fr.send = func(ctx context.Context, req scenario.Request) chaosledger.Entry {
		rq := pick(req.Rand, req.Seq-1)
		k := partitionRouter(req.Seq-1, cycle, pr.cut, pr.other)
		rctx, cancel := context.WithTimeout(ctx, tenantDeadline(rq.tenant)+deadlineGrace+hungMargin)
		defer cancel()
		e := sendAt(rctx, rq, k)
		if k == pr.cut && pr.onCut != nil {
			pr.onCut(e)
		}
		return e
	}
	return fr.run(ctx)
}

// sendAt is sendVia with the request pinned to router k (Endpoints' k-th HTTP URL and gRPC
// address).
func sendAt(ctx context.Context, rq loadReq, k int) chaosledger.Entry {
	var e chaosledger.Entry
	switch rq.via {
	case viaGRPC, viaGRPCStream:
		res, err := env.GRPC.At(k).Complete(ctx, rq.tenant.Key, grpcRequest(rq.body, ""))
		e = entryOfGRPC(rq.tenant, res, err)
	default:
		res, err := env.HTTP.At(k).Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: rq.tenant.Key, Body: rq.body, Header: rq.hdr})
		e = entryOf(rq.tenant, res, err)
	}
	e.Path = cmp.Or(rq.via, viaHTTP)
	return e
}

// partitionJobs is how many small jobs the batch submitted to the cut router carries.
const partitionJobs = 4

// submitTo submits a batch of t to router k and records its answer. It runs on its own
// goroutine while the router is cut, so it asserts nothing: a transport error or a timeout is
// recorded as no answer.
func submitTo(ctx context.Context, k int, t target.Tenant, idem string) (partitionBatch, string) {
	var reqs []map[string]any
	for i := range partitionJobs {
		body := map[string]any{"model": model().Name, "max_tokens": 2,
			"messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("partition job %d of %s", i, idem)}}}
		reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("job-%d", i), "body": body})
	}
	b := partitionBatch{sent: true, deadline: tenantDeadline(t)}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions, "requests": reqs})
	if err != nil {
		b.err = err.Error()
		return b, ""
	}
	rctx, cancel := context.WithTimeout(ctx, b.deadline+deadlineGrace+hungMargin)
	defer cancel()
	var obj batchObject
	start := time.Now()
	status, hdr, err := env.HTTP.At(k).PostJSON(rctx, "/v1/batches", t.Key, raw, http.Header{"Idempotency-Key": {idem}}, &obj)
	b.took = time.Since(start)
	if err != nil {
		b.err = errorWords(err)
		return b, ""
	}
	b.status, b.retryAfter = status, hdr.Get("Retry-After")
	b.class, b.reason = outcome.Class(hdr.Get(outcome.HeaderOutcome)), outcome.Reason(hdr.Get(outcome.HeaderReason))
	return b, obj.ID
}

// spoolLead is how long before the end of the cut the spool is looked at: the look must see the
// router still cut, and the engine ends the window when the heal starts.
const spoolLead = 750 * time.Millisecond

// spoolSettle is how long before the look at the spool a request must have been answered for its
// record to count as held back: a connected router's record is chained well within it.
const spoolSettle = 2 * time.Second

// spoolSample is how many of the cut router's answered requests the look checks.
const spoolSample = 10

// probeSpool looks, through router other, for the records of the latest requests the cut router
// answered at least spoolSettle ago. It asserts nothing (it runs inside the fault's heal); a
// lookup that fails counts as neither sampled nor absent.
func probeSpool(ctx context.Context, key string, other int, ids []string) spoolProbe {
	var p spoolProbe
	for _, id := range ids[max(0, len(ids)-spoolSample):] {
		var list discovery.EvidenceList
		status, _, err := env.HTTP.At(other).GetJSON(ctx, discovery.PathEvidence+"?request_id="+id, key, &list)
		if err != nil || status != http.StatusOK {
			continue
		}
		p.sampled++
		if len(list.Records) == 0 {
			p.absent++
		}
	}
	return p
}
