package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The evidence chain is part of the contract: any runtime's records can be checked by anyone with
// these two functions, the harness included, without trusting the runtime's own verifier.
const (
	// HashPrefix names the hash function in every Hash and PrevHash.
	HashPrefix = "sha256:"
	// GenesisHash is the PrevHash of the first record (Seq 1).
	GenesisHash = HashPrefix + "0000000000000000000000000000000000000000000000000000000000000000"
)

// Errors of VerifyChain.
var (
	// ErrGap means records are missing between two sequence numbers.
	ErrGap = errors.New("evidence: gap in the chain")
	// ErrBrokenChain means a record's hash or link does not match.
	ErrBrokenChain = errors.New("evidence: broken chain")
)

// canonical is what RecordHash covers: the record with Hash cleared and Time in UTC RFC 3339
// nanoseconds, so an instant hashes the same in any location.
type canonical struct {
	Record
	Time string `json:"time"`
}

// RecordHash is "sha256:" and the hex SHA-256 of r's canonical encoding; "" when r has none (a
// NaN or infinite DurationMS).
func RecordHash(r Record) string {
	r.Hash = ""
	b, err := json.Marshal(canonical{Record: r, Time: r.Time.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return HashPrefix + hex.EncodeToString(sum[:])
}

// VerifyChain checks consecutive records: sequence numbers contiguous, each Hash its record's,
// each PrevHash the previous record's Hash (GenesisHash before Seq 1). The error names the first
// bad seq and wraps ErrGap or ErrBrokenChain.
func VerifyChain(records []Record) error {
	for i, r := range records {
		if got := RecordHash(r); got == "" || got != r.Hash {
			return fmt.Errorf("%w: seq %d: hash %q does not match its record", ErrBrokenChain, r.Seq, r.Hash)
		}
		switch {
		case i == 0 && r.Seq == 1 && r.PrevHash != GenesisHash:
			return fmt.Errorf("%w: seq 1 does not link to the genesis hash", ErrBrokenChain)
		case i == 0:
			continue
		case r.Seq != records[i-1].Seq+1:
			return fmt.Errorf("%w: after seq %d comes seq %d", ErrGap, records[i-1].Seq, r.Seq)
		case r.PrevHash != records[i-1].Hash:
			return fmt.Errorf("%w: seq %d does not link to seq %d", ErrBrokenChain, r.Seq, records[i-1].Seq)
		}
	}
	return nil
}
