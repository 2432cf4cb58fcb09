package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Exec runs one job as p and returns the response the synchronous endpoint would have given.
// The router provides it, so a batch job is admitted, routed, classified and evidenced exactly
// like an interactive request of the batch class.
type Exec func(ctx context.Context, p Principal, requestID string, body []byte) Response

// runnerConsumer is the durable consumer every runner shares: the work queue hands each job to
// one runner at a time.
const runnerConsumer = "aruntime-batch-runner"

// Timing of the runner. A running job tells JetStream it is in progress every jobHeartbeat; a job
// whose runner died (a SIGKILL, a lost host) goes quiet and is redelivered after jobAckWait, so a
// restarted runtime resumes it within seconds. A fetch waits fetchWait for work before it looks at
// ctx again.
const (
	jobAckWait   = 10 * time.Second
	jobHeartbeat = 3 * time.Second
	fetchWait    = time.Second
)

// Retrying: a job refused for load, or whose worker went away, is queued again after a delay
// that grows with each delivery, up to maxDeliveries; then its last failure is its result.
const (
	maxDeliveries = 10
	retryDelay    = 500 * time.Millisecond
)

// retryable reports whether a job's ending says "not now" rather than "never". For queued work
// that includes a refusal only because the tenant's allowed places are down right now
// (policy_forbids_fallback, say while a restarted runtime's primary workers come up) and a
// deadline passed under load, or the tenant's quota or concurrency spent for now (the queue paces
// the tenant's jobs rather than failing them): the job is not done, and a later delivery may do it.
func retryable(r Response) bool {
	switch r.Reason {
	case "worker_lost", "no_healthy_worker", "client_cancelled", "dependency_unavailable",
		"policy_forbids_fallback", "deadline", "quota_exceeded", "concurrency_exceeded":
		return true
	}
	return r.Outcome == "shed"
}

// Runner takes jobs off the queue and runs them.
type Runner struct {
	store       *Store
	exec        Exec
	concurrency int
	log         *slog.Logger
	ackFirst    bool
	byJob       bool
	trustQueue  bool
}

// AckBeforeRun makes the runner acknowledge each job as it takes it, before running it, and give
// up a result it cannot store at once, so a job that ends while the queue is away is lost rather
// than redelivered. It exists only for the harness's
// negative controls (a job lost in a queue outage), which certification must catch.
func (r *Runner) AckBeforeRun() { r.ackFirst = true }

// NameResultsByJob makes the runner record every result under the job's first request id,
// whichever delivery served it, so a job redelivered after a refusal points at the refused
// attempt's evidence. It exists only for the harness's negative controls.
func (r *Runner) NameResultsByJob() { r.byJob = true }

// TrustQueue makes the runner rely on the queue to deliver each job once: it runs a job without
// looking for a stored result first, and names each message's request by its stream sequence.
// With RequeueOnResume a resubmitted batch's jobs run twice, each run with a record of its own,
// while the batch shows one result each. It exists only for the harness's negative controls.
func (r *Runner) TrustQueue() { r.trustQueue = true }

// NewRunner returns a runner that runs up to concurrency jobs at once.
func NewRunner(s *Store, exec Exec, concurrency int, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{store: s, exec: exec, concurrency: max(1, concurrency), log: log}
}

// Run runs jobs until ctx ends. A job whose result already exists (it completed before a crash
// cut its acknowledgement) is acknowledged without running again.
func (r *Runner) Run(ctx context.Context) error {
	cons, err := r.store.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: runnerConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: jobAckWait,
		MaxAckPending: r.concurrency,
	})
	if err != nil {
		return fmt.Errorf("batch: consumer: %w", err)
	}
	var wg sync.WaitGroup
	for range r.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.loop(ctx, cons)
		}()
	}
	wg.Wait()
	return nil
}

func (r *Runner) loop(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("batch fetch failed", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(fetchWait):
				}
			}
			continue
		}
		for msg := range batch.Messages() {
			r.handle(ctx, msg)
		}
	}
}

// attemptID is the request id of one delivery of a job: each attempt is its own request with its
// own single terminal outcome and evidence record, so a job retried after a shed or a crash never
// has two terminal records under one id. The first attempt keeps the plain job id.
func attemptID(msg jetstream.Msg, j job) string {
	id := j.BatchID + "." + j.CustomID
	if md, err := msg.Metadata(); err == nil && md.NumDelivered > 1 {
		id += fmt.Sprintf(".attempt-%d", md.NumDelivered)
	}
	return id
}

// heartbeat marks msg in progress every jobHeartbeat until the returned function is called.
func heartbeat(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(jobHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// handle runs one job and records its result once.
func (r *Runner) handle(ctx context.Context, msg jetstream.Msg) {
	var j job
	if err := json.Unmarshal(msg.Data(), &j); err != nil {
		r.log.Error("malformed job dropped to the dead-letter log", "err", err, "data", string(msg.Data()))
		_ = msg.Term()
		return
	}
	key := resultKey(j.BatchID, j.CustomID)
	switch _, err := r.store.results.Get(ctx, key); {
	case r.trustQueue:
	case err == nil:
		_ = msg.Ack() // completed before a crash cut the ack: exactly once means not again
		return
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		// The queue cannot say whether the job already ran: running it now could run it twice.
		r.log.Warn("batch result lookup failed; the job waits", "batch", j.BatchID, "custom_id", j.CustomID, "err", err)
		_ = msg.NakWithDelay(retryDelay)
		return
	}
	h := msg.Headers()
	p := Principal{Tenant: h.Get(HeaderTenant), Application: h.Get(HeaderApp), User: h.Get(HeaderUser)}
	if r.ackFirst {
		_ = msg.Ack()
		resp := r.exec(ctx, p, attemptID(msg, j), j.Body)
		if !r.store.js.Conn().IsConnected() {
			return // the control's flaw: a result that cannot be stored now is given up
		}
		raw, _ := json.Marshal(Result{CustomID: j.CustomID, Response: resp})
		_, _ = r.store.results.Create(ctx, key, raw)
		return
	}
	stop := heartbeat(msg)
	id := attemptID(msg, j)
	if md, err := msg.Metadata(); err == nil && r.trustQueue {
		id = fmt.Sprintf("%s.seq-%d", id, md.Sequence.Stream)
	}
	resp := r.exec(ctx, p, id, j.Body)
	if r.byJob {
		resp.RequestID = j.BatchID + "." + j.CustomID
	}
	if ctx.Err() != nil {
		stop()
		_ = msg.Nak() // shutting down: another runner, or this one after a restart, runs it
		return
	}
	if retryable(resp) {
		if md, err := msg.Metadata(); err == nil && md.NumDelivered < maxDeliveries {
			stop()
			// Refused for load or lost with its worker: the job is not done, it waits its turn.
			_ = msg.NakWithDelay(retryDelay * time.Duration(md.NumDelivered))
			return
		}
	}
	raw, _ := json.Marshal(Result{CustomID: j.CustomID, Response: resp})
	// The job has run: its result is stored, retried while the results bucket elects a leader,
	// with the job still marked in progress. Giving up at once would have it run again.
	err := storeResult(ctx, r.store.results, key, raw, resultStoreWait, r.log)
	stop()
	if err != nil {
		r.log.Error("batch result not stored; the job will be redelivered and run again", "batch", j.BatchID, "custom_id", j.CustomID, "err", err)
		_ = msg.Nak()
		return
	}
	if err := msg.Ack(); err != nil {
		r.log.Warn("batch ack failed; a redelivery will find the result and not run again", "err", err)
	}
}
