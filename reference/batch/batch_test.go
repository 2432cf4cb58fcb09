package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/reference/jetstream"
)

type env struct {
	store *Store
	srv   *jetstream.Server
	dir   string
}

func open(t *testing.T, dir string, capacity int) *env {
	t.Helper()
	srv, err := jetstream.Start("127.0.0.1:0", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, js, err := jetstream.Connect(srv.URL(), "batch-test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, js, Options{Capacity: capacity, MaxRequests: 50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close(); srv.Shutdown() })
	return &env{store: s, srv: srv, dir: dir}
}

func submission(n int) Submission {
	sub := Submission{Endpoint: "/v1/chat/completions"}
	for i := range n {
		sub.Requests = append(sub.Requests, Request{CustomID: fmt.Sprintf("job-%d", i), Body: json.RawMessage(`{"model":"m"}`)})
	}
	return sub
}

// counter is an Exec that counts how often each job ran and as whom.
type counter struct {
	mu      sync.Mutex
	runs    map[string]int
	tenants map[string]string
}

func newCounter() *counter { return &counter{runs: map[string]int{}, tenants: map[string]string{}} }

func (c *counter) exec(_ context.Context, p Principal, id string, _ []byte) Response {
	c.mu.Lock()
	c.runs[id]++
	c.tenants[id] = p.Tenant
	c.mu.Unlock()
	return Response{StatusCode: 200, Outcome: "completed", Reason: "none", RequestID: id, Body: json.RawMessage(`{}`)}
}

// waitCompleted polls the batch until it completes, with a bound.
func waitCompleted(t *testing.T, s *Store, tenant, id string) Batch {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		b, err := s.Get(context.Background(), tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		if b.Status == StatusCompleted {
			return b
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("batch %s did not complete", id)
	return Batch{}
}

func TestBatchRunsEachJobOnceAsItsTenant(t *testing.T) {
	e := open(t, t.TempDir(), 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newCounter()
	go func() { _ = NewRunner(e.store, c.exec, 3, nil).Run(ctx) }()

	acme := Principal{Tenant: "acme", Application: "a", User: "u"}
	b, err := e.store.Submit(ctx, acme, "key-1", submission(5))
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.store.Submit(ctx, acme, "key-1", submission(5))
	if err != nil || again.ID != b.ID {
		t.Fatalf("idempotent resubmission gave %s (%v), want %s", again.ID, err, b.ID)
	}
	done := waitCompleted(t, e.store, "acme", b.ID)
	if done.Counts.Completed != 5 || len(done.Output) != 5 {
		t.Fatalf("completed %+v", done.Counts)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, n := range c.runs {
		if n != 1 || c.tenants[id] != "acme" {
			t.Errorf("job %s ran %d times as %q", id, n, c.tenants[id])
		}
	}
	if len(c.runs) != 5 {
		t.Errorf("%d jobs ran, want 5 (the idempotent resubmission must queue nothing)", len(c.runs))
	}
	if _, err := e.store.Get(ctx, "globex", b.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant sees the batch: %v", err)
	}
}

func TestQueueBoundAndValidation(t *testing.T) {
	e := open(t, t.TempDir(), 4)
	ctx := context.Background()
	p := Principal{Tenant: "acme"}
	if _, err := e.store.Submit(ctx, p, "", submission(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Submit(ctx, p, "", submission(2)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("over capacity: %v, want ErrQueueFull", err)
	}
	bad := []Submission{
		{Endpoint: "/v1/embeddings", Requests: submission(1).Requests},
		{Endpoint: "/v1/chat/completions"},
		{Endpoint: "/v1/chat/completions", Requests: []Request{{CustomID: "a", Body: json.RawMessage(`{}`)}, {CustomID: "a", Body: json.RawMessage(`{}`)}}},
		{Endpoint: "/v1/chat/completions", Requests: []Request{{CustomID: "", Body: json.RawMessage(`{}`)}}},
		{Endpoint: "/v1/chat/completions", Requests: []Request{{CustomID: "x", Body: json.RawMessage(`[1]`)}}},
	}
	for i, sub := range bad {
		if _, err := e.store.Submit(ctx, p, "", sub); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad submission %d: %v", i, err)
		}
	}
}

// TestJobsSurviveARestart queues jobs with no runner, restarts JetStream on the same directory,
// and then runs them: every job completes exactly once.
func TestJobsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := e.store.Submit(ctx, Principal{Tenant: "acme"}, "", submission(8))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Shutdown()

	e2 := open(t, dir, 100)
	c := newCounter()
	go func() { _ = NewRunner(e2.store, c.exec, 2, nil).Run(ctx) }()
	done := waitCompleted(t, e2.store, "acme", b.ID)
	if done.Counts.Completed != 8 {
		t.Fatalf("after restart %+v", done.Counts)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, n := range c.runs {
		if n != 1 {
			t.Errorf("job %s ran %d times", id, n)
		}
	}
}

// TestShedJobsAreRetried: a job refused for load is not completed with that refusal; it runs
// again and completes.
func TestShedJobsAreRetried(t *testing.T) {
	e := open(t, t.TempDir(), 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	calls := 0
	exec := func(_ context.Context, _ Principal, id string, _ []byte) Response {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return Response{StatusCode: 503, Outcome: "shed", Reason: "draining", RequestID: id}
		}
		return Response{StatusCode: 200, Outcome: "completed", Reason: "none", RequestID: id, Body: json.RawMessage(`{}`)}
	}
	go func() { _ = NewRunner(e.store, exec, 1, nil).Run(ctx) }()
	b, err := e.store.Submit(ctx, Principal{Tenant: "acme"}, "", submission(1))
	if err != nil {
		t.Fatal(err)
	}
	done := waitCompleted(t, e.store, "acme", b.ID)
	if done.Counts.Completed != 1 || done.Output[0].Response.Outcome != "completed" {
		t.Fatalf("a shed job was completed with its refusal: %+v", done.Output)
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		r    Response
		want bool
	}{
		{Response{Outcome: "shed", Reason: "draining"}, true},
		{Response{Outcome: "failed", Reason: "worker_lost"}, true},
		{Response{Outcome: "rejected", Reason: "policy_forbids_fallback"}, true},
		{Response{Outcome: "timed_out", Reason: "deadline"}, true},
		{Response{Outcome: "rejected", Reason: "invalid_request"}, false},
		{Response{Outcome: "rejected", Reason: "quota_exceeded"}, true},
		{Response{Outcome: "rejected", Reason: "unknown_model"}, false},
		{Response{Outcome: "completed", Reason: "none"}, false},
	} {
		if got := retryable(tc.r); got != tc.want {
			t.Errorf("retryable(%s/%s) = %v", tc.r.Outcome, tc.r.Reason, got)
		}
	}
}

// TestRetryCompletesASubmissionCutOffMidway is a submission cut off (a queue outage, a crash)
// after it claimed its idempotency key and queued only some jobs, so its caller was refused: the
// retry with the same key must complete the batch, each job once, instead of finding it stuck.
func TestRetryCompletesASubmissionCutOffMidway(t *testing.T) {
	e := open(t, t.TempDir(), 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	acme := Principal{Tenant: "acme"}
	sub := submission(4)
	// What the cut-off submission left: the key, the record and two of four jobs.
	sum := sha256.Sum256([]byte(acme.Tenant + "\x00" + "key-cut"))
	id := newBatchID()
	if _, err := e.store.idem.Create(ctx, hex.EncodeToString(sum[:]), []byte(id)); err != nil {
		t.Fatal(err)
	}
	half := Submission{Endpoint: sub.Endpoint, Requests: sub.Requests[:2]}
	rec := record{ID: id, Tenant: acme.Tenant, Endpoint: sub.Endpoint, Total: 4}
	for _, r := range sub.Requests {
		rec.CustomIDs = append(rec.CustomIDs, r.CustomID)
	}
	raw, _ := json.Marshal(rec)
	if _, err := e.store.batches.Create(ctx, id, raw); err != nil {
		t.Fatal(err)
	}
	for _, r := range half.Requests {
		if err := e.store.publish(ctx, acme, id, r, ""); err != nil {
			t.Fatal(err)
		}
	}
	c := newCounter()
	go func() { _ = NewRunner(e.store, c.exec, 2, nil).Run(ctx) }()

	b, err := e.store.Submit(ctx, acme, "key-cut", sub)
	if err != nil || b.ID != id {
		t.Fatalf("retry gave %s (%v), want the cut-off batch %s", b.ID, err, id)
	}
	done := waitCompleted(t, e.store, "acme", id)
	if done.Counts.Completed != 4 {
		t.Fatalf("completed %+v", done.Counts)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.runs) != 4 {
		t.Errorf("%d jobs ran, want 4: %v", len(c.runs), c.runs)
	}
	for job, n := range c.runs {
		if n != 1 {
			t.Errorf("job %s ran %d times", job, n)
		}
	}
}
