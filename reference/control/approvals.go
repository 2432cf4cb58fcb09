package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BucketApprovals holds one record per rollout to a protected pin, keyed by the rollout's id: the
// document waiting to be applied, who approved it and when, and whether it was applied. Every
// approval is a new revision of the record, so the bucket's history is the approval trail, and
// because it is a JetStream bucket like the others (file storage, durable.replicas) a held
// rollout and its approvals outlive the router that accepted them.
const BucketApprovals = "approvals"

// The states of a held rollout.
const (
	// StatePending is a rollout held until enough distinct operators approve it.
	StatePending = "pending_approval"
	// StateApplying is a rollout that has its approvals and whose document is being written:
	// the one approval whose compare-and-set moved it here writes the document, so two racing
	// final approvals cannot both write it. A record left here by a crash is finished by the next
	// approval, read, or start-up (FinishApplying).
	StateApplying = "applying"
	// StateApplied is a rollout whose document has been written to its bucket.
	StateApplied = "applied"
	// StateWithdrawn is a pending rollout an operator withdrew: it is never applied and takes no
	// more approvals.
	StateWithdrawn = "withdrawn"
)

// approveAttempts bounds the compare-and-set retries of one approval when other operators'
// approvals of the same rollout land in between.
const approveAttempts = 8

// Sentinel errors of the approval flow.
var (
	// ErrRolloutNotFound means no held rollout has the id.
	ErrRolloutNotFound = errors.New("control: rollout not found")
	// ErrInvalidRolloutID means an id that cannot be a rollout's: not "ro-" and 16 hex digits.
	ErrInvalidRolloutID = errors.New("control: invalid rollout id")
	// ErrRolloutNotPending means an approval of a withdrawn rollout, or a withdrawal of one that
	// is applying or applied.
	ErrRolloutNotPending = errors.New("control: rollout is not pending approval")
	// ErrApprovalsReadOnly means a caller tried to write the approvals bucket directly.
	ErrApprovalsReadOnly = errors.New("control: the approvals bucket is written only by approving a rollout")
)

// Approval is one operator's approval of a held rollout.
type Approval struct {
	Operator string    `json:"operator"`
	At       time.Time `json:"at"`
}

// HeldRollout is the record of a rollout to a protected pin, as the approvals bucket keeps it and
// the operator API answers it.
type HeldRollout struct {
	ID     string `json:"id"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Digest is the protected digest the rollout moves Key to.
	Digest string `json:"digest"`
	// Document is what is written to Bucket/Key once the rollout is approved.
	Document   json.RawMessage `json:"document"`
	Required   int             `json:"required"`
	ProposedBy string          `json:"proposed_by"`
	Approvals  []Approval      `json:"approvals"`
	State      string          `json:"state"`
	// BaseRevision is the revision of Bucket/Key (0: none) when the rollout went applying: the
	// document is written only over it, so a second writer finds it written instead.
	BaseRevision uint64 `json:"base_revision,omitempty"`
	// AppliedRevision is the revision of Bucket/Key the approved document became.
	AppliedRevision uint64 `json:"applied_revision,omitempty"`
	// WithdrawnBy names the operator who withdrew the rollout.
	WithdrawnBy string `json:"withdrawn_by,omitempty"`
}

// approvedBy reports whether operator has already approved r.
func (r *HeldRollout) approvedBy(operator string) bool {
	return slices.ContainsFunc(r.Approvals, func(a Approval) bool { return a.Operator == operator })
}

// Protection says, per model and digest, how many distinct operators must approve a rollout to
// that digest. A model or digest it does not list needs no approval.
type Protection map[string]map[string]int

// Required is how many approvals a move of model to digest needs; 0 means none.
func (p Protection) Required(model, digest string) int { return p[model][digest] }

// ApprovalDefects are the deliberate approval bugs the negative controls switch on.
type ApprovalDefects struct {
	// ApplyAtOnce writes a rollout to a protected pin at once, as if nothing were protected.
	ApplyAtOnce bool
	// CountByKey tells approvers apart by credential, not operator, so one operator's two keys
	// meet a rule of two.
	CountByKey bool
	// CanaryNotHeld holds model documents and rollbacks but writes a rollout document (a canary)
	// to a protected digest at once.
	CanaryNotHeld bool
	// HoldOnlyPuts holds only a PUT of the model document: a rollback to a protected revision
	// or a rollout document with weight to a protected digest goes straight through.
	HoldOnlyPuts bool
	// AnyRoleApproves lets a tenant's or a workload's credential approve, and counts it.
	AnyRoleApproves bool
	// CountRepeats counts every approval, so one operator approving twice meets a rule of two.
	CountRepeats bool
	// NoEvidence leaves approvals out of the evidence chain (the runtime reads it; the API
	// still reports each to OnApproval).
	NoEvidence bool
}

// Hold records doc, a move of bucket/key to a protected digest, as a rollout pending required
// approvals, and returns it. Nothing is written to bucket until Approve has collected them.
func (s *Store) Hold(ctx context.Context, bucket, key, digest string, doc json.RawMessage, required int, by string) (HeldRollout, error) {
	if _, err := s.bucket(bucket, key); err != nil {
		return HeldRollout{}, err
	}
	raw, err := canonical(bucket, doc)
	if err != nil {
		return HeldRollout{}, err
	}
	id, err := newRolloutID()
	if err != nil {
		return HeldRollout{}, err
	}
	r := HeldRollout{ID: id, Bucket: bucket, Key: key, Digest: digest, Document: raw, Required: required,
		ProposedBy: by, Approvals: []Approval{}, State: StatePending}
	b, err := json.Marshal(r)
	if err != nil {
		return HeldRollout{}, fmt.Errorf("control: hold %s/%s: %w", bucket, key, err)
	}
	if _, err := s.kv[BucketApprovals].Create(ctx, id, b); err != nil {
		return HeldRollout{}, fmt.Errorf("control: hold %s/%s: %w", bucket, key, err)
	}
	return r, nil
}

// HeldRollout returns the current record of the rollout id, finishing it first if a crash left
// it applying.
func (s *Store) HeldRollout(ctx context.Context, id string) (HeldRollout, error) {
	r, rev, err := s.readHeld(ctx, id)
	if err == nil && r.State == StateApplying {
		return s.finish(ctx, r, rev)
	}
	return r, err
}

// Approve records operator's approval of the rollout id and, once Required distinct operators
// have approved, writes its document. An operator who already approved is not counted again;
// approving an applying or applied rollout adds nothing. added says whether this call added an
// approval, applied whether this call's approval released the document.
func (s *Store) Approve(ctx context.Context, id, operator string, countRepeats bool) (r HeldRollout, added, applied bool, err error) {
	for range approveAttempts {
		r, rev, err := s.readHeld(ctx, id)
		if err != nil {
			return HeldRollout{}, false, false, err
		}
		switch r.State {
		case StateApplied:
			return r, false, false, nil
		case StateApplying: // another approval released it: see it through, in case its writer died
			r, err = s.finish(ctx, r, rev)
			return r, false, false, err
		case StateWithdrawn:
			return r, false, false, fmt.Errorf("%w: %s was withdrawn by %s", ErrRolloutNotPending, id, r.WithdrawnBy)
		}
		if !countRepeats && r.approvedBy(operator) {
			return r, false, false, nil
		}
		r.Approvals = append(r.Approvals, Approval{Operator: operator, At: time.Now().UTC()})
		if len(r.Approvals) >= r.Required {
			if r.BaseRevision, err = s.currentRevision(ctx, r.Bucket, r.Key); err != nil {
				return HeldRollout{}, false, false, err
			}
			r.State = StateApplying
		}
		rev, err = s.updateHeld(ctx, r, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // another approval landed first: count again from what it wrote
		}
		if err != nil {
			return HeldRollout{}, false, false, err
		}
		if r.State == StateApplying {
			r, err = s.finish(ctx, r, rev)
			return r, true, err == nil, err
		}
		return r, true, false, nil
	}
	return HeldRollout{}, false, false, fmt.Errorf("control: approve %s: %d concurrent approvals in a row", id, approveAttempts)
}

// Withdraw withdraws the pending rollout id as operator: it is kept, as a withdrawn revision of
// its record, and never applied. Withdrawing a withdrawn rollout changes nothing; one that is
// applying or applied is refused, since its document is or is being written.
func (s *Store) Withdraw(ctx context.Context, id, operator string) (HeldRollout, error) {
	for range approveAttempts {
		r, rev, err := s.readHeld(ctx, id)
		if err != nil {
			return HeldRollout{}, err
		}
		switch r.State {
		case StateWithdrawn:
			return r, nil
		case StateApplying, StateApplied:
			return HeldRollout{}, fmt.Errorf("%w: %s is %s, too late to withdraw", ErrRolloutNotPending, id, r.State)
		}
		r.State, r.WithdrawnBy = StateWithdrawn, operator
		_, err = s.updateHeld(ctx, r, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // an approval landed first: look again
		}
		if err != nil {
			return HeldRollout{}, err
		}
		return r, nil
	}
	return HeldRollout{}, fmt.Errorf("control: withdraw %s: %d concurrent approvals in a row", id, approveAttempts)
}

// readHeld reads the rollout id's record and its revision.
func (s *Store) readHeld(ctx context.Context, id string) (HeldRollout, uint64, error) {
	if !rolloutIDPattern.MatchString(id) {
		return HeldRollout{}, 0, fmt.Errorf("%w: %q is not \"ro-\" and 16 hex digits", ErrInvalidRolloutID, id)
	}
	kv := s.kv[BucketApprovals]
	e, err := kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return HeldRollout{}, 0, fmt.Errorf("%w: %q", ErrRolloutNotFound, id)
	}
	if err != nil {
		return HeldRollout{}, 0, fmt.Errorf("control: read rollout %s: %w", id, err)
	}
	var r HeldRollout
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return HeldRollout{}, 0, fmt.Errorf("control: read rollout %s: %w", id, err)
	}
	return r, e.Revision(), nil
}

// updateHeld writes r as the next revision of its record, if the record is still at rev, and
// returns the revision written.
func (s *Store) updateHeld(ctx context.Context, r HeldRollout, rev uint64) (uint64, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("control: approve %s: %w", r.ID, err)
	}
	next, err := s.kv[BucketApprovals].Update(ctx, r.ID, b, rev)
	if err != nil {
		return 0, fmt.Errorf("control: approve %s: %w", r.ID, err)
	}
	return next, nil
}

// rolloutIDPattern is the form newRolloutID gives every id.
var rolloutIDPattern = regexp.MustCompile(`^ro-[0-9a-f]{16}$`)

// newRolloutID is a random id that is one NATS subject token.
func newRolloutID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("control: rollout id: %w", err)
	}
	return "ro-" + hex.EncodeToString(b[:]), nil
}
