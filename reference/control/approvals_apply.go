package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// finish writes the document of r, a rollout in StateApplying whose record is at rev, and marks
// it applied. The document is written only over r.BaseRevision, so when two callers finish the
// same rollout (the approval that released it and one that read it applying) the second finds it
// written and takes that revision instead of writing it again.
func (s *Store) finish(ctx context.Context, r HeldRollout, rev uint64) (HeldRollout, error) {
	applied, err := s.writeOnce(ctx, r)
	if err != nil {
		return HeldRollout{}, err
	}
	r.State, r.AppliedRevision = StateApplied, applied
	_, err = s.updateHeld(ctx, r, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// Another caller marked it applied: its record is the one to answer.
		done, _, rerr := s.readHeld(ctx, r.ID)
		return done, rerr
	}
	if err != nil {
		return HeldRollout{}, err
	}
	return r, nil
}

// writeOnce writes r's document as the revision after r.BaseRevision and returns that revision;
// if the key moved on since, the document is looked for among the later revisions (another
// caller wrote it), and written anew only if none holds it.
func (s *Store) writeOnce(ctx context.Context, r HeldRollout) (uint64, error) {
	kv, err := s.bucket(r.Bucket, r.Key)
	if err != nil {
		return 0, err
	}
	raw, err := canonical(r.Bucket, r.Document)
	if err != nil {
		return 0, err
	}
	var rev uint64
	if r.BaseRevision == 0 {
		rev, err = kv.Create(ctx, r.Key, raw)
	} else {
		rev, err = kv.Update(ctx, r.Key, raw, r.BaseRevision)
	}
	if err == nil {
		return rev, nil
	}
	if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, fmt.Errorf("control: apply rollout %s: %w", r.ID, err)
	}
	hist, err := s.History(ctx, r.Bucket, r.Key)
	if err != nil {
		return 0, fmt.Errorf("control: apply rollout %s: %w", r.ID, err)
	}
	for _, e := range hist {
		if e.Revision > r.BaseRevision && !e.Deleted && bytes.Equal(e.Value, raw) {
			return e.Revision, nil
		}
	}
	return s.Put(ctx, r.Bucket, r.Key, raw)
}

// currentRevision is the revision of bucket/key now; 0 if it holds nothing.
func (s *Store) currentRevision(ctx context.Context, bucket, key string) (uint64, error) {
	kv, err := s.bucket(bucket, key)
	if err != nil {
		return 0, err
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("control: read %s/%s: %w", bucket, key, err)
	}
	return e.Revision(), nil
}

// FinishApplying finishes every held rollout a crash left applying (its approvals complete, its
// document perhaps unwritten): called at start-up, so a released rollout never stays half done
// until someone reads it. It returns how many it finished.
func (s *Store) FinishApplying(ctx context.Context) (int, error) {
	keys, err := s.kv[BucketApprovals].ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("control: list held rollouts: %w", err)
	}
	defer func() { _ = keys.Stop() }()
	n := 0
	for id := range keys.Keys() {
		r, rev, err := s.readHeld(ctx, id)
		if err != nil || r.State != StateApplying {
			continue
		}
		if _, err := s.finish(ctx, r, rev); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
