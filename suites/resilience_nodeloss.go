package suites

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/target"
)

// Sizes and pace of the node-loss spec: a batch large enough to be running when the node goes,
// and how often the stream's leader is asked for while it is down.
const (
	nodeLossJobs = 2 * queueJobs
	leaderPoll   = 200 * time.Millisecond
	// electionHold is how long the leader stays dead: long enough for any Raft-based store to
	// elect another (NATS JetStream's followers wait a random 4 to 9 s without a heartbeat
	// before they stand), so the election the judge asks for has had its chance.
	electionHold = 12 * time.Second
)

// leaderWatch is what the node-loss spec learns around the kill. Its fields are written by the
// fault's injection and heal (the scenario engine's goroutines) and read after the run.
type leaderWatch struct {
	mu           sync.Mutex
	killed       string
	leaderAtKill string
	// replicas is how many nodes kept the stream just before the kill (0: not known), and
	// replicasWords says so (or why it is not known) for the evidence.
	replicas      int
	replicasWords string
	jobsRunning   bool
	answers       []string
	errors        int
}

// stateStoreLeaders is env.Nodes as a deployment that can name a stream's leader, and the
// evidence stream's name; why says what is missing when the spec cannot run.
func stateStoreLeaders() (leaders fault.Leaders, stream, why string) {
	if env.Nodes == nil {
		return nil, "", "the harness controls no part of this runtime"
	}
	if len(env.Nodes.Parts(target.PartStateStore)) == 0 {
		return nil, "", "the deployment has no state-store parts to lose"
	}
	l, ok := env.Nodes.(fault.Leaders)
	if !ok {
		return nil, "", "the harness cannot ask this deployment which state-store node leads a stream"
	}
	d := env.Target.Deployment
	if d == nil || d.StateStore == nil || d.StateStore.EvidenceStream == "" {
		return nil, "", "the target's deployment section names no evidence stream of its state store"
	}
	return l, d.StateStore.EvidenceStream, ""
}

// killLeader is the node-loss fault: it asks which node leads stream, notes whether the batch is
// still running, asks again just before killing that node (a leader that moved in between makes
// the kill hit a follower, which the judge rules INVALID) and polls the leader until the heal it
// returns restarts the node. The restart is registered (holdFault) before the kill, so a failure
// anywhere brings it back.
func killLeader(ctx context.Context, leaders fault.Leaders, stream string, t target.Tenant, batch string, w *leaderWatch) func() error {
	leader, err := leaders.StreamLeader(ctx, stream)
	Expect(err).NotTo(HaveOccurred(), "asking which state-store node leads %s", stream)
	var b batchObject
	status := getJSON(ctx, "/v1/batches/"+batch, t.Key, &b)
	stop, polled := make(chan struct{}), make(chan struct{})
	win := fault.Window{Fault: fault.Fault{Kind: fault.Kill}, Role: target.PartStateStore, Name: leader, Start: time.Now()}
	heal := holdFault(func() error {
		select {
		case <-stop:
		default:
			close(stop)
			<-polled
		}
		if err := env.Nodes.Restart(context.WithoutCancel(ctx), target.PartStateStore, leader); err != nil {
			return fmt.Errorf("restarting state-store node %s: %w", leader, err)
		}
		win.End = time.Now()
		recordWindow(win)
		return nil
	})
	again, err := leaders.StreamLeader(ctx, stream)
	if err != nil {
		again = "unknown: " + err.Error()
	}
	replicas, err := leaders.StreamReplicas(ctx, stream)
	replicasWords := fmt.Sprintf("%s was kept on %d node(s) at the kill", stream, replicas)
	if err != nil {
		replicas = 0 // not known: the election the judge asks for decides
		replicasWords = fmt.Sprintf("how many nodes kept %s could not be read: %v", stream, err)
	}
	w.mu.Lock()
	w.replicasWords = replicasWords
	w.killed, w.leaderAtKill, w.replicas, w.jobsRunning = leader, again, replicas, status == http.StatusOK && b.Status != "completed"
	w.mu.Unlock()
	killErr := env.Nodes.Kill(ctx, target.PartStateStore, leader)
	go pollLeader(ctx, leaders, stream, w, stop, polled)
	Expect(killErr).NotTo(HaveOccurred(), "killing state-store node %s, the leader of %s", leader, stream)
	return heal
}

// pollLeader asks for stream's leader every leaderPoll until stop closes, and records each answer.
func pollLeader(ctx context.Context, leaders fault.Leaders, stream string, w *leaderWatch, stop <-chan struct{}, polled chan<- struct{}) {
	defer close(polled)
	tick := time.NewTicker(leaderPoll)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		qctx, cancel := context.WithTimeout(ctx, leaderPoll)
		l, err := leaders.StreamLeader(qctx, stream)
		cancel()
		w.mu.Lock()
		if err != nil {
			w.errors++
		} else {
			w.answers = append(w.answers, l)
		}
		w.mu.Unlock()
	}
}

var _ = Describe("State-store node loss", Serial, Label("fault:state-store"), func() {
	It("loses no request, record or job when the evidence stream's leader is killed under load", Req("DUR-4"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		leaders, stream, why := stateStoreLeaders()
		if why != "" {
			inconclusive("%s", why)
			return
		}
		if !hasBatchAPI() {
			inconclusive("the target does not declare the queue feature: no batch jobs can be running when the node goes")
			return
		}
		Expect(env.Target.Operator).NotTo(BeNil(), "the evidence is read through the operator's listing")
		a := tenantA()
		awaitSteady(ctx)
		key := env.Target.Operator.Key
		chainFrom := lastSeq(allEvidence(ctx, key))
		w := &leaderWatch{}
		var jobs batchObject
		// Only tenants whose quotas carry the load with room to spare: any refusal the run meets is
		// then the node loss's doing, so none is allowed (a runtime that answered a lost state
		// store with quota_exceeded would otherwise pass).
		tenants := nodeLossTenants(a, faultRate())
		if len(tenants) == 0 {
			invalid("no tenant's declared quota carries its share of %.0f requests/s four times over, so a quota refusal could be the load's, not the node loss's", faultRate())
			return
		}
		rr := faultRun{name: "state-store-node-loss", stream: 421, pick: rotate(tenants, 6, nil), hold: electionHold,
			inject: func(ctx context.Context) func() error {
				// The batch goes in the moment before the kill, under the run's load, so its jobs
				// are queued and running when the leader dies rather than done before.
				var status int
				status, _, _, jobs = submitJobs(ctx, a, fmt.Sprintf("arcert-nodeloss-%d-%d", env.Seed, time.Now().UnixNano()), nodeLossJobs, queueJobTokens)
				Expect(status).To(Equal(http.StatusOK), "a batch just before the node loss")
				return killLeader(ctx, leaders, stream, a, jobs.ID, w)
			}}.run(ctx)
		if !steadyBefore(rr) {
			return
		}
		done, ok := awaitJobs(ctx, a, jobs.ID, recoveryTime())
		ids := answeredIDs(rr.entries)
		for _, o := range done.Output {
			ids = append(ids, o.Response.RequestID)
		}
		chain := settledChain(ctx, key, ids, recoveryTime())
		w.mu.Lock()
		n := nodeLoss{entries: rr.entries, window: rr.window, paths: faultPaths(), killed: w.killed, leaderAtKill: w.leaderAtKill, replicas: w.replicas, stream: stream,
			leadersWhileDown: w.answers, jobsRunning: w.jobsRunning, jobs: done, done: ok, want: nodeLossJobs,
			chain: chain, jobTenant: a.Name, chainFrom: chainFrom, grace: deadlineGrace}
		evidence("StreamLeader(%s) while %s was down: %s (%d errors)", stream, w.killed, runs(w.answers), w.errors)
		evidence("%s", w.replicasWords)
		w.mu.Unlock()
		verdict := judgeNodeLoss(n)
		if verdict.Verdict == scenario.Fail {
			judgeThat(false, "%s", verdict.Message)
		}
		if !gate(verdict) {
			return
		}
		for p, c := range byPath(rr.entries) {
			judged(p, c)
		}
		judged("batch-api", nodeLossJobs)
		judged("evidence", len(ids))
		explainPaths(viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream)
		evidence("%s (%s)", verdict.Message, pathsText(rr.entries))
	}, SpecTimeout(3*time.Minute))
})

// answeredIDs lists the request ids of the answered entries.
func answeredIDs(entries []chaosledger.Entry) []string {
	var ids []string
	for _, e := range entries {
		if answered(e) && e.RequestID != "" {
			ids = append(ids, e.RequestID)
		}
	}
	return ids
}

// runs shortens a list of answers to its runs ("nats-3 x20, nats-2 x38"), in order.
func runs(answers []string) string {
	if len(answers) == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < len(answers); {
		j := i
		for j < len(answers) && answers[j] == answers[i] {
			j++
		}
		parts = append(parts, fmt.Sprintf("%s x%d", answers[i], j-i))
		i = j
	}
	return strings.Join(parts, ", ")
}

// nodeLossTenants are the roomy tenants (roomyTenants) DUR-4's run loads. Tenant a also runs the
// batch's jobs, which take its concurrency as its requests do, so it stays in the load only if
// its concurrency limit has room for them as well.
func nodeLossTenants(a target.Tenant, rate float64) []target.Tenant {
	ts := slices.DeleteFunc(slices.Clone(env.Target.Tenants), func(t target.Tenant) bool {
		return t.Name == a.Name && t.Quota.MaxConcurrency > 0 && t.Quota.MaxConcurrency < roomyConcurrency+nodeLossJobs
	})
	return roomyTenants(ts, rate)
}
