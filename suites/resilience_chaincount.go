package suites

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
)

// Exactly-once evidence after a fault (DUR-4, DUR-5, FLT-4) is judged on one listing of the whole
// chain taken once the chain has settled, not request by request as records first appear: a
// spool replayed after a partition or a leader change that re-appends records already stored
// adds the duplicate after the original, and a wait that stops at the first record of each
// request never sees it.

// chainQuiet is how long the chain must not grow before it counts as settled.
const chainQuiet = time.Second

// chainCount is the evidence chain as listed once after settling: how many records each request
// id has, the tenants those records name, the chain's length and why it does not verify ("" when
// it does).
type chainCount struct {
	all     []discovery.Record
	records map[string]int
	tenants map[string][]string
	length  int
	problem string
}

// countChain counts all's records per request id and notes their tenants: all is a whole
// listing from a store that says it dropped nothing.
func countChain(all []discovery.Record) chainCount { return countListing(evidenceLog{records: all}) }

// countListing counts the listing's records per request id and notes their tenants.
func countListing(log evidenceLog) chainCount {
	all := log.records
	c := chainCount{all: all, records: map[string]int{}, tenants: map[string][]string{}, length: len(all), problem: log.problem()}
	for _, r := range all {
		c.records[r.RequestID]++
		c.tenants[r.RequestID] = append(c.tenants[r.RequestID], r.Tenant)
	}
	return c
}

// once lists what is wrong with the evidence of what (request id, sent as tenant): no id to find
// it by, not exactly one record, or a record naming another tenant. An empty tenant skips the
// tenant check (a caller the harness cannot name).
func (c chainCount) once(what, id, tenant string) []string {
	if id == "" {
		return []string{what + " was answered without a request id: its evidence cannot be found"}
	}
	var out []string
	if n := c.records[id]; n != 1 {
		kind := "lost"
		if n > 1 {
			kind = "duplicated"
		}
		out = append(out, fmt.Sprintf("%s (%s) has %d evidence records, not one (%s)", what, id, n, kind))
	}
	if tenant != "" {
		for _, t := range c.tenants[id] {
			if t != tenant {
				out = append(out, fmt.Sprintf("%s (%s) of tenant %q has an evidence record naming tenant %q", what, id, tenant, t))
				break
			}
		}
	}
	return out
}

// settledChain waits until every id has a record (spooled records arrive after healing) and the
// chain has then not grown for chainQuiet, both within, and returns the count of one listing of
// the whole chain taken after that. Growth is watched with listings of the records past the last
// seen, so the settle costs little on a long chain.
func settledChain(ctx context.Context, key string, ids []string, within time.Duration) chainCount {
	limit := time.Now().Add(within)
	all := allEvidence(ctx, key)
	seen := map[string]bool{}
	for _, r := range all {
		seen[r.RequestID] = true
	}
	last, grew := lastSeq(all), time.Now()
	for time.Now().Before(limit) && sleepCtx(ctx, 200*time.Millisecond) {
		var page discovery.EvidenceList
		path := fmt.Sprintf("%s?since=%d&limit=%d", discovery.PathEvidence, last, evidencePage)
		Expect(evidencePageAt(ctx, path, key, &page)).To(Equal(http.StatusOK), "listing the evidence past seq %d (asked again for %s while it answered 502/503)", last, recoveryTime())
		if len(page.Records) > 0 {
			for _, r := range page.Records {
				seen[r.RequestID] = true
			}
			last, grew = lastSeq(page.Records), time.Now()
			continue
		}
		if time.Since(grew) >= chainQuiet && !slices.ContainsFunc(ids, func(id string) bool { return !seen[id] }) {
			break
		}
	}
	return countListing(listEvidence(ctx, key))
}

// lastSeq is the seq of the last of recs, 0 when there is none.
func lastSeq(recs []discovery.Record) uint64 {
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].Seq
}

// strayJobs lists the records past seq from, of tenant and in the traffic class of the jobs'
// records, whose request id starts as every job's does (the batch's own id family) but is neither
// a job's nor one of requests: a job run a second time under a new id (its batch lists one result
// per job, so only the chain shows the second run). Records of the tenant's other batches, still
// finishing from earlier specs, have ids of their own family and are not this batch's. ok is
// false when the jobs' ids share no prefix of minJobPrefix characters, their records do not share
// one class, or a request of requests has a record in it: no record can then be told to be a job's.
func (c chainCount) strayJobs(from uint64, tenant string, jobs, requests []string) (stray []string, ok bool) {
	family := commonPrefix(jobs)
	if len(family) < minJobPrefix {
		return nil, false
	}
	class, known := "", map[string]bool{}
	for _, r := range c.all {
		if slices.Contains(jobs, r.RequestID) {
			if class != "" && class != r.TrafficClass {
				return nil, false
			}
			class = r.TrafficClass
		}
	}
	if class == "" {
		return nil, false
	}
	for _, id := range slices.Concat(jobs, requests) {
		known[id] = true
	}
	for _, r := range c.all {
		switch {
		case r.TrafficClass != class:
		case slices.Contains(requests, r.RequestID):
			return nil, false
		case r.Seq > from && r.Tenant == tenant && !known[r.RequestID] && strings.HasPrefix(r.RequestID, family):
			stray = append(stray, fmt.Sprintf("record seq %d (request %s, class %s, outcome %s/%s) of %s belongs to no job of the batch", r.Seq, r.RequestID, class, r.Outcome, r.Reason, tenant))
		}
	}
	return stray, true
}

// minJobPrefix is the shortest prefix the jobs' request ids must share to be told apart from other
// batches' (a batch id, or a fixed job prefix).
const minJobPrefix = 6

// commonPrefix is the longest prefix every id shares; "" for none.
func commonPrefix(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	p := ids[0]
	for _, id := range ids[1:] {
		for !strings.HasPrefix(id, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
