// Package evidence is where the router writes one evidence record per request and where the
// evidence endpoint (GET /v1/aruntime/evidence) reads them back.
//
// Records are discovery.Record, the contract's own type, so what is stored is exactly what the
// harness reads. They are append-only and hash-chained: each record's Hash covers every other
// field, PrevHash included, so removing, reordering or editing a stored record breaks the chain
// at that record and Verify names where. The interfaces are small so that the in-memory store of
// the embedded default (Memory) and the durable JetStream store (Client, with Service as the
// chain's single writer) are interchangeable.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/aruntime/arcert/api/discovery"
)

// Sink is where the router writes one record per request.
type Sink interface {
	// Append stores r as the next record of the chain. The chain fields are the store's: Seq
	// (1, 2, 3, …), PrevHash (the previous record's Hash, GenesisHash for the first) and Hash
	// overwrite whatever the caller set. It returns the record as stored; a store that chains
	// asynchronously (the durable Client) returns it with Seq 0 once it is durably accepted, and
	// the chain fields appear when a Reader returns it.
	Append(ctx context.Context, r discovery.Record) (discovery.Record, error)
}

// Reader answers the evidence endpoint.
type Reader interface {
	// ByRequestID returns the records of one request in chain order, or ErrNotFound.
	ByRequestID(ctx context.Context, requestID string) ([]discovery.Record, error)
	// Since returns up to limit records with Seq greater than seq, in chain order: pass 0 to
	// read from the start and the last Seq read to continue. If records after seq were
	// dropped, the first record returned has a Seq above seq+1, so the gap is visible.
	Since(ctx context.Context, seq uint64, limit int) ([]discovery.Record, error)
}

// Sentinel errors of the evidence store and of Verify, matched with errors.Is; the wrapping
// error names the record.
var (
	// ErrBrokenChain means a record's Hash does not match its fields, its PrevHash does not
	// match the previous record's Hash, or records are out of order: evidence was altered.
	ErrBrokenChain = errors.New("evidence: broken hash chain")
	// ErrGap means sequence numbers are missing: records were removed or dropped.
	ErrGap = errors.New("evidence: gap in sequence")
	// ErrInvalidRecord means Append was given a record that cannot be stored: no RequestID, or a
	// DurationMS that has no canonical encoding (NaN or infinite).
	ErrInvalidRecord = errors.New("evidence: invalid record")
	// ErrInvalidArgument means a Reader call was given an argument it cannot honour, such as a
	// limit below 1.
	ErrInvalidArgument = errors.New("evidence: invalid argument")
	// ErrNotFound means no stored record has the requested RequestID: it was never written or
	// has been dropped.
	ErrNotFound = errors.New("evidence: not found")
)

// validate refuses what no store can keep: a record with no request id to find it by, or a
// DurationMS with no canonical encoding, which could never be hashed.
func validate(r discovery.Record) error {
	if r.RequestID == "" {
		return fmt.Errorf("%w: no request_id", ErrInvalidRecord)
	}
	if math.IsNaN(r.DurationMS) || math.IsInf(r.DurationMS, 0) {
		return fmt.Errorf("%w: request %q: duration_ms is %v", ErrInvalidRecord, r.RequestID, r.DurationMS)
	}
	return nil
}
