package batch

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	arjs "github.com/aruntime/arcert/reference/jetstream"
)

// Options size the queue.
type Options struct {
	// Capacity is how many jobs the queue holds at most: the declared bound of the batch class.
	Capacity int
	// MaxRequests bounds one batch.
	MaxRequests int
	// GlobalIdempotencyKeys is a deliberate bug for the harness's negative controls only: an
	// idempotency key names one batch across all tenants instead of one per tenant, so a second
	// tenant that happens to use the same key is refused its own batch.
	GlobalIdempotencyKeys bool
	// RequeueOnResume is a deliberate bug for the harness's negative controls only: a repeat
	// submission under an idempotency key is answered with the first batch, but its jobs are
	// published again under message ids of their own, so the queue's dedupe does not drop them.
	RequeueOnResume bool
	// Replicas is how many servers keep the jobs stream and each bucket (durable.replicas;
	// below 1 means 1).
	Replicas int
}

// errCodeStoreFailed is JetStream's error code for a publish refused by a full stream with
// DiscardNew ("maximum messages exceeded"); the client library names no constant for it.
const errCodeStoreFailed jetstream.ErrorCode = 10077

// dedupeWindow is how long JetStream remembers a job's message id, so a submission retried
// after a lost acknowledgement does not queue the same job twice.
const dedupeWindow = 10 * time.Minute

// Store submits batches and reads them back.
type Store struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	batches jetstream.KeyValue
	results jetstream.KeyValue
	idem    jetstream.KeyValue
	opts    Options
	// admit serialises the capacity check and the publishing of one batch's jobs, so two
	// batches cannot both pass the check and together overfill the queue.
	admit sync.Mutex
}

// Open creates (or opens) the stream and buckets.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Store, error) {
	if o.Capacity < 1 || o.MaxRequests < 1 {
		return nil, fmt.Errorf("%w: capacity %d and max requests %d must be positive", ErrInvalid, o.Capacity, o.MaxRequests)
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: JobsStream, Subjects: []string{jobsSubject}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, MaxMsgs: int64(o.Capacity), Discard: jetstream.DiscardNew, Duplicates: dedupeWindow,
		Replicas: max(o.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("batch: jobs stream: %w", err)
	}
	s := &Store{js: js, stream: st, opts: o}
	for _, b := range []struct {
		name string
		kv   *jetstream.KeyValue
	}{{BatchesBucket, &s.batches}, {ResultsBucket, &s.results}, {IdemBucket, &s.idem}} {
		kv, err := arjs.OpenKeyValue(ctx, js, jetstream.KeyValueConfig{Bucket: b.name, Storage: jetstream.FileStorage, Replicas: max(o.Replicas, 1)})
		if err != nil {
			return nil, fmt.Errorf("batch: bucket %s: %w", b.name, err)
		}
		*b.kv = kv
	}
	return s, nil
}

// resultKey names a job's result; custom ids are hashed because KV keys allow few characters.
func resultKey(batchID, customID string) string {
	sum := sha256.Sum256([]byte(customID))
	return batchID + "." + hex.EncodeToString(sum[:16])
}

func newBatchID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "batch_" + hex.EncodeToString(b[:])
}

// Submit validates and queues a batch for p. With an idempotency key, a repeat submission by the
// same tenant returns the batch the first one created instead of queueing it again.
func (s *Store) Submit(ctx context.Context, p Principal, idemKey string, sub Submission) (Batch, error) {
	if err := s.validate(sub); err != nil {
		return Batch{}, err
	}
	var idem string
	if idemKey != "" {
		scoped := p.Tenant + "\x00" + idemKey
		if s.opts.GlobalIdempotencyKeys {
			scoped = idemKey
		}
		sum := sha256.Sum256([]byte(scoped))
		idem = hex.EncodeToString(sum[:])
		if e, err := s.idem.Get(ctx, idem); err == nil {
			return s.resume(ctx, p, string(e.Value()), sub)
		}
	}
	s.admit.Lock()
	defer s.admit.Unlock()
	info, err := s.stream.Info(ctx)
	if err != nil {
		return Batch{}, fmt.Errorf("batch: %w", err)
	}
	if int(info.State.Msgs)+len(sub.Requests) > s.opts.Capacity {
		return Batch{}, fmt.Errorf("%w: %d queued, %d more would pass the capacity of %d", ErrQueueFull, info.State.Msgs, len(sub.Requests), s.opts.Capacity)
	}
	rec := record{ID: newBatchID(), Tenant: p.Tenant, Endpoint: sub.Endpoint, Total: len(sub.Requests), CreatedAt: time.Now().Unix()}
	if idem != "" {
		if _, err := s.idem.Create(ctx, idem, []byte(rec.ID)); err != nil {
			if e, gerr := s.idem.Get(ctx, idem); gerr == nil {
				return s.resume(ctx, p, string(e.Value()), sub) // a concurrent twin won
			}
			return Batch{}, fmt.Errorf("batch: idempotency key: %w", err)
		}
	}
	if err := s.queue(ctx, p, rec, sub, ""); err != nil {
		return Batch{}, err
	}
	return s.Get(ctx, p.Tenant, rec.ID)
}

// queue writes rec (unless it exists) and publishes every job of sub; a non-empty idSuffix is
// appended to each job's message id (only RequeueOnResume sets one).
func (s *Store) queue(ctx context.Context, p Principal, rec record, sub Submission, idSuffix string) error {
	for _, r := range sub.Requests {
		rec.CustomIDs = append(rec.CustomIDs, r.CustomID)
	}
	raw, _ := json.Marshal(rec)
	if _, err := s.batches.Create(ctx, rec.ID, raw); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("batch: record: %w", err)
	}
	for _, r := range sub.Requests {
		if err := s.publish(ctx, p, rec.ID, r, idSuffix); err != nil {
			return err
		}
	}
	return nil
}

// resume answers a submission whose idempotency key already names batch id. The first
// submission may have been cut off after it claimed the key and before its record or every job
// was queued (a queue outage, a crash), and the caller was refused: so a batch that is not yet
// complete has its record written and its jobs published again. JetStream drops a job it already
// holds (same message id within dedupeWindow), and the runner skips one whose result exists, so
// a retry completes a cut-off batch and runs nothing twice.
func (s *Store) resume(ctx context.Context, p Principal, id string, sub Submission) (Batch, error) {
	b, err := s.Get(ctx, p.Tenant, id)
	switch {
	case err == nil && b.Status == StatusCompleted:
		return b, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return Batch{}, err
	}
	if errors.Is(err, ErrNotFound) {
		if _, gerr := s.batches.Get(ctx, id); gerr == nil {
			return Batch{}, ErrNotFound // another tenant's batch: keys are per tenant, so never
		}
	} else if !sameJobs(b, sub) {
		return b, nil // the key was reused for other jobs: the first submission stands
	}
	rec := record{ID: id, Tenant: p.Tenant, Endpoint: sub.Endpoint, Total: len(sub.Requests), CreatedAt: time.Now().Unix()}
	var suffix string
	if s.opts.RequeueOnResume {
		suffix = fmt.Sprintf("/resumed-%d", time.Now().UnixNano())
	}
	if err := s.queue(ctx, p, rec, sub, suffix); err != nil {
		return Batch{}, err
	}
	return s.Get(ctx, p.Tenant, id)
}

// publish queues one job with the tenant in its headers.
func (s *Store) publish(ctx context.Context, p Principal, batchID string, r Request, idSuffix string) error {
	body, _ := json.Marshal(job{BatchID: batchID, CustomID: r.CustomID, Body: r.Body})
	msg := nats.NewMsg(jobsSubject)
	msg.Data = body
	msg.Header.Set(HeaderTenant, p.Tenant)
	msg.Header.Set(HeaderApp, p.Application)
	msg.Header.Set(HeaderUser, p.User)
	msg.Header.Set(HeaderBatch, batchID)
	if _, err := s.js.PublishMsg(ctx, msg, jetstream.WithMsgID(resultKey(batchID, r.CustomID)+idSuffix)); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeStoreFailed {
			return fmt.Errorf("%w: %w", ErrQueueFull, err)
		}
		return fmt.Errorf("batch: queue job %s: %w", r.CustomID, err)
	}
	return nil
}

// validate checks a submission; errors name the field.
func (s *Store) validate(sub Submission) error {
	if sub.Endpoint != "/v1/chat/completions" {
		return fmt.Errorf("%w: endpoint %q: only /v1/chat/completions is batched", ErrInvalid, sub.Endpoint)
	}
	if n := len(sub.Requests); n == 0 || n > s.opts.MaxRequests {
		return fmt.Errorf("%w: requests: %d, want 1 to %d", ErrInvalid, n, s.opts.MaxRequests)
	}
	seen := map[string]bool{}
	for i, r := range sub.Requests {
		switch {
		case r.CustomID == "" || len(r.CustomID) > 64:
			return fmt.Errorf("%w: requests[%d].custom_id: 1 to 64 characters", ErrInvalid, i)
		case seen[r.CustomID]:
			return fmt.Errorf("%w: requests[%d].custom_id %q is repeated", ErrInvalid, i, r.CustomID)
		case len(r.Body) == 0 || r.Body[0] != '{':
			return fmt.Errorf("%w: requests[%d].body: want a JSON object", ErrInvalid, i)
		}
		seen[r.CustomID] = true
	}
	return nil
}

// Get returns the caller's batch with the results so far. Another tenant's batch is ErrNotFound,
// so ids cannot be probed.
func (s *Store) Get(ctx context.Context, tenant, id string) (Batch, error) {
	e, err := s.batches.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Batch{}, ErrNotFound
	}
	if err != nil {
		return Batch{}, fmt.Errorf("batch: %w", err)
	}
	var rec record
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return Batch{}, fmt.Errorf("batch: record %s: %w", id, err)
	}
	if rec.Tenant != tenant {
		return Batch{}, ErrNotFound
	}
	b := Batch{ID: rec.ID, Object: "batch", Endpoint: rec.Endpoint, Status: StatusInProgress, Tenant: rec.Tenant,
		CreatedAt: rec.CreatedAt, Counts: Counts{Total: rec.Total}, Output: []Result{}, customIDs: rec.CustomIDs}
	for _, cid := range rec.CustomIDs {
		re, err := s.results.Get(ctx, resultKey(rec.ID, cid))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return Batch{}, fmt.Errorf("batch: result: %w", err)
		}
		var r Result
		if err := json.Unmarshal(re.Value(), &r); err != nil {
			return Batch{}, fmt.Errorf("batch: result of %s: %w", cid, err)
		}
		b.Output = append(b.Output, r)
		if r.Response.StatusCode == 200 {
			b.Counts.Completed++
		} else {
			b.Counts.Failed++
		}
	}
	if b.Counts.Completed+b.Counts.Failed == b.Counts.Total {
		b.Status = StatusCompleted
	}
	return b, nil
}

// sameJobs reports whether sub names exactly the jobs of b, in order.
func sameJobs(b Batch, sub Submission) bool {
	if b.Counts.Total != len(sub.Requests) || len(b.customIDs) != len(sub.Requests) {
		return false
	}
	for i, r := range sub.Requests {
		if b.customIDs[i] != r.CustomID {
			return false
		}
	}
	return true
}
