package suites

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/scenario"
)

// linked gives recs contiguous seqs from 1 and the hashes and links of a chain that verifies.
func linked(recs []discovery.Record) []discovery.Record {
	prev := discovery.GenesisHash
	for i := range recs {
		recs[i].Seq, recs[i].Time, recs[i].PrevHash = uint64(i+1), t0.Add(time.Duration(i)*time.Millisecond), prev
		recs[i].Hash = discovery.RecordHash(recs[i])
		prev = recs[i].Hash
	}
	return recs
}

// chainOf is the count of a chain in which each id of records has that many records, all of
// tenant.
func chainOf(records map[string]int, tenant string) chainCount {
	c := chainCount{records: records, tenants: map[string][]string{}}
	for id, n := range records {
		for range n {
			c.tenants[id] = append(c.tenants[id], tenant)
		}
		c.length += n
	}
	return c
}

// lateDuplicate is a verified chain holding c's records (ids in order) and, appended after all of
// them, a second record of id: a spool replayed after healing.
func lateDuplicate(c chainCount, id string) []discovery.Record {
	var recs []discovery.Record
	for _, k := range slices.Sorted(maps.Keys(c.records)) {
		for _, t := range c.tenants[k] {
			recs = append(recs, discovery.Record{RequestID: k, Tenant: t})
		}
	}
	return linked(append(recs, discovery.Record{RequestID: id, Tenant: c.tenants[id][0]}))
}

// A duplicate appended after every other record still verifies as a chain: only counting the
// whole listing per request shows it.
func TestCountChainSeesALateDuplicate(t *testing.T) {
	var recs []discovery.Record
	for _, id := range []string{"req-1", "req-2", "req-3", "job-req-0"} {
		recs = append(recs, discovery.Record{RequestID: id, Tenant: "acme"})
	}
	for range 20 {
		recs = append(recs, discovery.Record{RequestID: "someone-else", Tenant: "globex"})
	}
	recs = linked(append(recs, discovery.Record{RequestID: "req-2", Tenant: "acme"}, discovery.Record{RequestID: "job-req-0", Tenant: "acme"}))
	c := countChain(recs)
	if c.problem != "" || c.length != len(recs) {
		t.Fatalf("the synthetic chain: problem %q, length %d of %d", c.problem, c.length, len(recs))
	}
	if p := c.once("request #1", "req-1", "acme"); len(p) != 0 {
		t.Errorf("a request with one record: %v", p)
	}
	for _, id := range []string{"req-2", "job-req-0"} {
		if p := c.once("x", id, "acme"); len(p) != 1 || !strings.Contains(p[0], "has 2 evidence records, not one (duplicated)") {
			t.Errorf("%s duplicated late: %v", id, p)
		}
	}
	if p := c.once("x", "req-9", "acme"); len(p) != 1 || !strings.Contains(p[0], "has 0 evidence records, not one (lost)") {
		t.Errorf("a request without a record: %v", p)
	}
	if p := c.once("x", "", "acme"); len(p) != 1 || !strings.Contains(p[0], "without a request id") {
		t.Errorf("a request without an id: %v", p)
	}
}

func TestCountChainSeesAnotherTenant(t *testing.T) {
	c := countChain(linked([]discovery.Record{{RequestID: "req-1", Tenant: "acme"}, {RequestID: "req-2", Tenant: "globex"}}))
	if p := c.once("request #2", "req-2", "acme"); len(p) != 1 || !strings.Contains(p[0], `of tenant "acme" has an evidence record naming tenant "globex"`) {
		t.Errorf("a record naming another tenant: %v", p)
	}
	if p := c.once("request #2", "req-2", ""); len(p) != 0 {
		t.Errorf("a caller without a tenant is not checked for one: %v", p)
	}
}

func TestCountChainReportsABrokenChain(t *testing.T) {
	recs := linked([]discovery.Record{{RequestID: "req-1", Tenant: "acme"}, {RequestID: "req-2", Tenant: "acme"}})
	recs[1].Tenant = "globex" // rewritten after hashing
	if c := countChain(recs); c.problem == "" {
		t.Error("a record changed after it was chained verifies")
	}
}

// jobChain is a verified chain of lossRun's requests (class standard, one steady probe of acme
// among them) and jobs (class batch), with extra appended.
func jobChain(n nodeLoss, extra ...discovery.Record) []discovery.Record {
	recs := []discovery.Record{{RequestID: "before", Tenant: "acme", TrafficClass: "batch"}}
	for _, e := range n.entries {
		recs = append(recs, discovery.Record{RequestID: e.RequestID, Tenant: e.Tenant, TrafficClass: "standard"})
	}
	recs = append(recs, discovery.Record{RequestID: "steady-probe", Tenant: "acme", TrafficClass: "standard"})
	for _, o := range n.jobs.Output {
		recs = append(recs, discovery.Record{RequestID: o.Response.RequestID, Tenant: "acme", TrafficClass: "batch"})
	}
	return linked(append(recs, extra...))
}

// A job run a second time under a new id leaves the batch's output looking right (one result per
// job) and its listed ids with one record each; only the chain shows the extra run.
func TestNodeLossFailsAJobRunAgainUnderAnotherID(t *testing.T) {
	n := lossRun()
	n.chainFrom = 1 // "before" is another batch's job, from before this one
	n.chain = countChain(jobChain(n))
	expectVerdict(t, judgeNodeLoss(n), scenario.Pass, "no job ran again under another id")
	n.chain = countChain(jobChain(n, discovery.Record{RequestID: "job-req-0-again", Tenant: "acme", TrafficClass: "batch", Outcome: outcome.Completed}))
	expectVerdict(t, judgeNodeLoss(n), scenario.Fail, "(request job-req-0-again, class batch, outcome completed/) of acme belongs to no job of the batch")
	// Another batch of the same tenant, still finishing from an earlier spec, is not this batch's.
	n.chain = countChain(jobChain(n, discovery.Record{RequestID: "batch_other.job-0", Tenant: "acme", TrafficClass: "batch"}))
	expectVerdict(t, judgeNodeLoss(n), scenario.Pass, "no job ran again under another id")
	// Another tenant's batch job is not this batch's.
	n.chain = countChain(jobChain(n, discovery.Record{RequestID: "their-job", Tenant: "globex", TrafficClass: "batch"}))
	expectVerdict(t, judgeNodeLoss(n), scenario.Pass, "no job ran again under another id")
}

// When the jobs' records share their class with the requests', no record can be told to be a
// job's: the search is skipped and the evidence line says so.
func TestStrayJobsNeedsAClassOfTheirOwn(t *testing.T) {
	n := lossRun()
	recs := jobChain(n, discovery.Record{RequestID: "unknown", Tenant: "acme", TrafficClass: "batch"})
	for i := range recs {
		recs[i].TrafficClass = "standard"
	}
	n.chain = countChain(linked(recs))
	if stray, ok := n.chain.strayJobs(1, "acme", []string{"job-req-0", "job-req-1"}, []string{"req-1"}); ok || len(stray) != 0 {
		t.Errorf("one class for all: ok %v, stray %v", ok, stray)
	}
	expectVerdict(t, judgeNodeLoss(n), scenario.Pass, "a job run again under another id is not looked for")
}

// A listing must start its chain at seq 1 or where the store says it truncated: records lost
// before the first one listed, with nothing saying so, are a broken chain even though every link
// after them verifies.
func TestAListingMustStartWhereTheStoreSays(t *testing.T) {
	recs := linked([]discovery.Record{{RequestID: "req-1"}, {RequestID: "req-2"}, {RequestID: "req-3"}, {RequestID: "req-4"}})
	if p := (evidenceLog{records: recs}).problem(); p != "" {
		t.Fatalf("a whole chain: %s", p)
	}
	tail := recs[2:] // seq 3 and 4
	if p := (evidenceLog{records: tail}).problem(); !strings.Contains(p, "records 1..2 are missing") {
		t.Errorf("a chain starting at seq 3 with nothing truncated: %q, want records 1..2 missing", p)
	}
	if p := (evidenceLog{records: tail, truncatedBefore: 3}).problem(); p != "" {
		t.Errorf("a chain starting where the store truncated: %s", p)
	}
	if p := (evidenceLog{records: tail[1:], truncatedBefore: 3}).problem(); !strings.Contains(p, "records 3..3 are missing") {
		t.Errorf("a chain starting past the truncation: %q", p)
	}
}
