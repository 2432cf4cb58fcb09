package suites

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
)

// t0 is the synthetic runs' clock origin.
var t0 = time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)

// servedEntries is n requests, one every 100 ms from start, taking turns over the four wires, all
// completed in 50 ms, each recorded once in records.
func servedEntries(seq0, n int, start time.Time, records map[string]int) []chaosledger.Entry {
	paths := []string{viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream}
	var out []chaosledger.Entry
	for i := range n {
		at := start.Add(time.Duration(i) * 100 * time.Millisecond)
		id := fmt.Sprintf("req-%d", seq0+i)
		records[id] = 1
		out = append(out, chaosledger.Entry{Seq: seq0 + i, Tenant: "acme", Path: paths[i%len(paths)], Start: at, End: at.Add(50 * time.Millisecond),
			Deadline: 10 * time.Second, RequestID: id, Outcome: outcome.Completed, Reason: outcome.ReasonNone, Tokens: 3})
	}
	return out
}

// lossRun is a node loss that passes: the leader killed, another elected, the batch running,
// 20 requests before and 20 during the loss, two jobs done once, every record once.
func lossRun() nodeLoss {
	records := map[string]int{}
	entries := append(servedEntries(1, 20, t0, records), servedEntries(21, 20, t0.Add(3*time.Second), records)...)
	var b batchObject
	if err := json.Unmarshal([]byte(`{"id": "batch-1", "status": "completed", "request_counts": {"total": 2, "completed": 2},
		"output": [{"custom_id": "job-0", "response": {"status_code": 200, "request_id": "job-req-0"}},
		           {"custom_id": "job-1", "response": {"status_code": 200, "request_id": "job-req-1"}}]}`), &b); err != nil {
		panic(err)
	}
	records["job-req-0"], records["job-req-1"] = 1, 1
	return nodeLoss{entries: entries, window: chaosledger.Window{Start: t0.Add(3 * time.Second), End: t0.Add(6 * time.Second)},
		paths: []string{viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream}, killed: "nats-1", leaderAtKill: "nats-1", stream: "EVIDENCE_IN", replicas: 3,
		leadersWhileDown: []string{"nats-1", "nats-2", "nats-2"}, jobsRunning: true, jobs: b, done: true, want: 2,
		chain: chainOf(records, "acme"), jobTenant: "acme", grace: time.Second}
}

// expectVerdict fails the test unless r has verdict v and a message naming want.
func expectVerdict(t *testing.T, r scenario.Result, v scenario.Verdict, want string) {
	t.Helper()
	if r.Verdict != v || !strings.Contains(r.Message, want) {
		t.Errorf("verdict %s (%s); want %s naming %q", r.Verdict, r.Message, v, want)
	}
}

func TestNodeLossPassesWhenNothingIsLost(t *testing.T) {
	expectVerdict(t, judgeNodeLoss(lossRun()), scenario.Pass, "nats-2 led after")
}

func TestNodeLossFails(t *testing.T) {
	cases := map[string]struct {
		change func(*nodeLoss)
		want   string
	}{
		// The run loads only tenants whose quotas carry it four times over, so a quota refusal
		// is the node loss's doing: a runtime reporting a lost state store as quota_exceeded.
		"a request refused for quota": {func(n *nodeLoss) {
			n.entries[25].Outcome, n.entries[25].Reason = outcome.Rejected, outcome.ReasonQuotaExceeded
		}, "request #26 (http-stream) was refused rejected/quota_exceeded"},
		"a request refused for concurrency": {func(n *nodeLoss) {
			n.entries[25].Outcome, n.entries[25].Reason = outcome.Rejected, outcome.ReasonConcurrencyExceeded
		}, "request #26 (http-stream) was refused rejected/concurrency_exceeded"},
		"a request refused for a dependency": {func(n *nodeLoss) {
			n.entries[30].Outcome, n.entries[30].Reason = outcome.Shed, outcome.ReasonDependencyUnavailable
		}, "request #31 (grpc) was refused shed/dependency_unavailable"},
		"a request failed internally": {func(n *nodeLoss) {
			n.entries[22].Outcome, n.entries[22].Reason = outcome.Failed, outcome.ReasonInternal
		}, "refused failed/internal"},
		"a request lost to a transport error": {func(n *nodeLoss) {
			n.entries[24].Error, n.entries[24].Indeterminate = "connection reset by peer", true
		}, "request #25 (http) was lost: connection reset by peer"},
		"a duplicated evidence record": {func(n *nodeLoss) { n.chain.records["req-33"] = 2 }, "(req-33) has 2 evidence records"},
		"a missing evidence record":    {func(n *nodeLoss) { delete(n.chain.records, "req-5") }, "(req-5) has 0 evidence records"},
		"a job's missing record":       {func(n *nodeLoss) { n.chain.records["job-req-1"] = 0 }, "job job-1 of batch batch-1 (job-req-1) has 0"},
		"a job completed twice": {func(n *nodeLoss) {
			n.jobs.Output[1].CustomID = "job-0"
		}, "job job-0 of batch batch-1 has two results"},
		"a job failed": {func(n *nodeLoss) {
			n.jobs.Counts.Failed, n.jobs.Output[0].Response.StatusCode = 1, 500
		}, "ended with status 500"},
		"the batch never completed":    {func(n *nodeLoss) { n.done, n.jobs.Status = false, "in_progress" }, "did not complete"},
		"a chain that does not verify": {func(n *nodeLoss) { n.chain.problem = "record 7's prev does not match" }, "chain does not verify: record 7"},
		"a duplicate appended late, the original first": {func(n *nodeLoss) {
			n.chain = countChain(lateDuplicate(n.chain, "req-33"))
		}, "(req-33) has 2 evidence records, not one (duplicated)"},
		"a job's record duplicated late": {func(n *nodeLoss) {
			n.chain = countChain(lateDuplicate(n.chain, "job-req-0"))
		}, "job job-0 of batch batch-1 (job-req-0) has 2 evidence records"},
		"a record naming another tenant":       {func(n *nodeLoss) { n.chain.tenants["req-24"] = []string{"globex"} }, `(req-24) of tenant "acme" has an evidence record naming tenant "globex"`},
		"a job's record naming another tenant": {func(n *nodeLoss) { n.chain.tenants["job-req-1"] = []string{"globex"} }, `(job-req-1) of tenant "acme" has an evidence record naming tenant "globex"`},
		"a request served empty":               {func(n *nodeLoss) { n.entries[28].Tokens = 0 }, "request #29 of acme (http) to  was answered completed with no content"},
		"a served answer breaking the contract": {func(n *nodeLoss) {
			n.entries[29].Violations = []string{"no request id"}
		}, "broke the contract: no request id"},
		"a request past its deadline": {func(n *nodeLoss) {
			n.entries[26].End = n.entries[26].Start.Add(12 * time.Second)
		}, "request #27 (grpc) took 12s"},
		// One replica: no election can follow the loss (so none is seen), and a run that lost
		// nothing in 12 s (the router's spool, the node's restart) still depended on that node.
		"the stream kept on one node": {func(n *nodeLoss) {
			n.replicas, n.leadersWhileDown = 1, nil
		}, "the evidence stream EVIDENCE_IN is kept on one node, nats-1, alone"},
		"the stream kept on two nodes": {func(n *nodeLoss) {
			n.replicas, n.leadersWhileDown = 2, nil
		}, "kept on 2 nodes: losing one, nats-1, leaves no majority"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			n := lossRun()
			c.change(&n)
			expectVerdict(t, judgeNodeLoss(n), scenario.Fail, c.want)
		})
	}
}

func TestNodeLossIsInvalidWithoutItsPreconditions(t *testing.T) {
	cases := map[string]struct {
		change func(*nodeLoss)
		want   string
	}{
		"a follower killed, the leader unchanged": {func(n *nodeLoss) {
			n.leaderAtKill, n.leadersWhileDown = "nats-2", []string{"nats-2", "nats-2"}
		}, "did not lead the stream"},
		"no election seen": {func(n *nodeLoss) { n.leadersWhileDown = []string{"nats-1", ""} }, "no other node was named leader"},
		"no election seen, replicas unknown": {func(n *nodeLoss) {
			n.replicas, n.leadersWhileDown = 0, []string{"nats-1"}
		}, "no other node was named leader"},
		"one replica, but a follower killed": {func(n *nodeLoss) { n.replicas, n.leaderAtKill = 1, "nats-3" }, "did not lead the stream at the kill"},
		"no answer at all":                   {func(n *nodeLoss) { n.leadersWhileDown = nil }, "answers: none"},
		"jobs done before":                   {func(n *nodeLoss) { n.jobsRunning = false }, "batch had completed before the kill"},
		"too few requests while down": {func(n *nodeLoss) {
			n.window = chaosledger.Window{Start: t0.Add(4500 * time.Millisecond), End: t0.Add(5 * time.Second)}
		}, "fewer than 10"},
		"a wire silent while down": {func(n *nodeLoss) {
			for i := range n.entries[20:] {
				if n.entries[20+i].Path == viaGRPC {
					n.entries[20+i].Path = viaHTTP
				}
			}
		}, "fewer than 2 requests over grpc were sent"},
		"a wire with one sample while down": {func(n *nodeLoss) {
			kept := false
			for i := range n.entries[20:] {
				if n.entries[20+i].Path == viaGRPCStream {
					if kept {
						n.entries[20+i].Path = viaHTTP
					}
					kept = true
				}
			}
		}, "fewer than 2 requests over grpc-stream were sent"},
		"the leader moved before the kill": {func(n *nodeLoss) { n.leaderAtKill = "nats-3" }, "did not lead the stream at the kill"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			n := lossRun()
			// Even a run that would fail is INVALID first: a spec that cannot show the loss
			// happened judges nothing of what followed.
			n.chain.records["req-30"] = 2
			c.change(&n)
			expectVerdict(t, judgeNodeLoss(n), scenario.Invalid, c.want)
		})
	}
}

func TestRunsShortensAnswers(t *testing.T) {
	if got := runs([]string{"nats-3", "nats-3", "nats-2", "nats-2", "nats-2"}); got != "nats-3 x2, nats-2 x3" {
		t.Fatalf("runs = %q", got)
	}
	if got := runs(nil); got != "none" {
		t.Fatalf("runs(nil) = %q", got)
	}
}
