// Package control is the reference runtime's control plane: the model repository, routing policy,
// deployment configuration, quotas and rollout state, each a versioned document in a JetStream
// key-value bucket. JetStream keeps every bucket's history, so any earlier revision can be looked
// at and rolled back to; a rollback writes the old value as a new revision, so the history an
// auditor reads is append-only. Operators change documents through an HTTP API only the operator
// identity may call; workers watch the buckets, apply what concerns them and report what they
// applied. A move to a protected pin is held in the approvals bucket until enough distinct
// operators approve it (approvals.go).
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	arjs "github.com/aruntime/arcert/reference/jetstream"
)

// The buckets of the control plane, as callers name them.
const (
	BucketModels     = "models"
	BucketRouting    = "routing"
	BucketDeployment = "deployment"
	BucketQuotas     = "quotas"
	BucketRollout    = "rollout"
	// BucketAutoscale keeps the autoscaler's decisions, keyed by the group's template worker:
	// each revision is one decision, so the history is the group's scaling record.
	BucketAutoscale = "autoscale"
)

// Buckets lists every bucket Open creates: the six documents and the approvals of rollouts to
// protected pins, so durable.replicas reaches every one of them.
var Buckets = []string{BucketModels, BucketRouting, BucketDeployment, BucketQuotas, BucketRollout, BucketAutoscale, BucketApprovals}

// streamPrefix keeps the control plane's JetStream buckets apart from the queue's and evidence's
// streams that share the same server.
const streamPrefix = "aruntime_control_"

// historyDepth is how many revisions of each key are kept: JetStream KV's maximum, so rollback
// reaches as far back as the engine allows.
const historyDepth = 64

// keyPattern is a key that is one NATS subject of dot-separated tokens: model names such as
// "llama-3.1-8b" fit; a slash does not, so every key is one path segment of the operator API.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_=-]+(\.[A-Za-z0-9_=-]+)*$`)

// maxKeyLen bounds a key well inside NATS's subject limits.
const maxKeyLen = 200

// Sentinel errors of the Store.
var (
	// ErrUnknownBucket means the bucket is not one of Buckets.
	ErrUnknownBucket = errors.New("control: unknown bucket")
	// ErrInvalidKey means the key cannot name a document (empty, or not a NATS subject token).
	ErrInvalidKey = errors.New("control: invalid key")
	// ErrInvalidDocument means a document was refused; the error is a *FieldError naming the field.
	ErrInvalidDocument = errors.New("control: invalid document")
	// ErrNotFound means the key has no current document (never written, or deleted).
	ErrNotFound = errors.New("control: not found")
	// ErrRevisionNotFound means the revision is not one of the key's kept revisions holding a value.
	ErrRevisionNotFound = errors.New("control: revision not found")
)

// Entry is one revision of one document.
type Entry struct {
	Bucket   string    `json:"bucket"`
	Key      string    `json:"key"`
	Revision uint64    `json:"revision"`
	Created  time.Time `json:"created"`
	// Deleted marks a revision that removed the key; it has no Value.
	Deleted bool            `json:"deleted,omitempty"`
	Value   json.RawMessage `json:"value,omitempty"`
}

// Store is the control plane's view of its JetStream buckets. It is safe for concurrent use.
type Store struct {
	kv map[string]jetstream.KeyValue
	nc *nats.Conn // for its reconnect events, which restart watches at once
}

// Open creates (or adopts, with the same settings) every bucket on js. Buckets use file storage,
// so the control plane's state survives a restart of the JetStream server, and are kept on
// replicas servers (durable.replicas; below 1 means 1), so it survives the loss of a minority
// of a cluster too.
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	s := &Store{kv: make(map[string]jetstream.KeyValue, len(Buckets)), nc: js.Conn()}
	for _, b := range Buckets {
		kv, err := arjs.OpenKeyValue(ctx, js, jetstream.KeyValueConfig{
			Bucket:      streamPrefix + b,
			Description: "aruntime control plane: " + b,
			History:     historyDepth,
			Storage:     jetstream.FileStorage,
			Replicas:    max(replicas, 1),
		})
		if err != nil {
			return nil, fmt.Errorf("control: open bucket %s: %w", b, err)
		}
		s.kv[b] = kv
	}
	return s, nil
}

// bucket returns the key-value handle of bucket after checking key.
func (s *Store) bucket(bucket, key string) (jetstream.KeyValue, error) {
	kv, ok := s.kv[bucket]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownBucket, bucket)
	}
	if len(key) > maxKeyLen || !keyPattern.MatchString(key) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidKey, key)
	}
	return kv, nil
}

// Put validates doc as bucket's document type and stores it as the key's next revision. doc is a
// document value (ModelDoc, ...) or its JSON ([]byte, json.RawMessage). A refused document is
// never stored.
func (s *Store) Put(ctx context.Context, bucket, key string, doc any) (uint64, error) {
	kv, err := s.bucket(bucket, key)
	if err != nil {
		return 0, err
	}
	if bucket == BucketApprovals {
		return 0, ErrApprovalsReadOnly // an approval written by hand would bypass Approve's counting
	}
	raw, err := canonical(bucket, doc)
	if err != nil {
		return 0, err
	}
	rev, err := kv.Put(ctx, key, raw)
	if err != nil {
		return 0, fmt.Errorf("control: put %s/%s: %w", bucket, key, err)
	}
	return rev, nil
}

// Get returns the key's current revision.
func (s *Store) Get(ctx context.Context, bucket, key string) (Entry, error) {
	kv, err := s.bucket(bucket, key)
	if err != nil {
		return Entry{}, err
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, fmt.Errorf("%w: %s/%s", ErrNotFound, bucket, key)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("control: get %s/%s: %w", bucket, key, err)
	}
	return entryOf(bucket, e), nil
}

// History returns every kept revision of the key, oldest first, deletions included.
func (s *Store) History(ctx context.Context, bucket, key string) ([]Entry, error) {
	kv, err := s.bucket(bucket, key)
	if err != nil {
		return nil, err
	}
	es, err := kv.History(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s/%s", ErrNotFound, bucket, key)
	}
	if err != nil {
		return nil, fmt.Errorf("control: history %s/%s: %w", bucket, key, err)
	}
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = entryOf(bucket, e)
	}
	return out, nil
}

// Rollback makes the value the key had at revision current again, as a new revision, and returns
// that revision. The old value is validated again, so a rollback can never store what Put would
// refuse.
func (s *Store) Rollback(ctx context.Context, bucket, key string, revision uint64) (uint64, error) {
	kv, err := s.bucket(bucket, key)
	if err != nil {
		return 0, err
	}
	e, err := kv.GetRevision(ctx, key, revision)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("%w: %s/%s@%d", ErrRevisionNotFound, bucket, key, revision)
	}
	if err != nil {
		return 0, fmt.Errorf("control: rollback %s/%s: %w", bucket, key, err)
	}
	return s.Put(ctx, bucket, key, json.RawMessage(e.Value()))
}

// revision returns the value the key had at revision, for a rollback to look at before it acts.
func (s *Store) revision(ctx context.Context, bucket, key string, revision uint64) (json.RawMessage, error) {
	kv, err := s.bucket(bucket, key)
	if err != nil {
		return nil, err
	}
	e, err := kv.GetRevision(ctx, key, revision)
	if err != nil {
		return nil, fmt.Errorf("control: revision %s/%s@%d: %w", bucket, key, revision, err)
	}
	return json.RawMessage(e.Value()), nil
}

// entryOf converts a JetStream entry.
func entryOf(bucket string, e jetstream.KeyValueEntry) Entry {
	out := Entry{Bucket: bucket, Key: e.Key(), Revision: e.Revision(), Created: e.Created()}
	if e.Operation() != jetstream.KeyValuePut {
		out.Deleted = true
	} else {
		out.Value = json.RawMessage(e.Value())
	}
	return out
}
