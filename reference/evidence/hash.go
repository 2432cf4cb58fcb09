package evidence

import (
	"fmt"

	"github.com/aruntime/arcert/api/discovery"
)

// hashPrefix names the hash function in every Hash and PrevHash.
const hashPrefix = discovery.HashPrefix

// GenesisHash is the PrevHash of the first record (Seq 1): the contract's, so that a chain the
// reference writes is checked by exactly the rule any harness applies.
const GenesisHash = discovery.GenesisHash

// Hash returns the contract's hash of r (discovery.RecordHash): "sha256:" and the hex SHA-256 of
// r's canonical encoding, "" for a record with no canonical encoding (a NaN or infinite
// DurationMS), which Append refuses.
func Hash(r discovery.Record) string { return discovery.RecordHash(r) }

// Verify checks a run of consecutive records, such as a Since page: sequence numbers contiguous,
// each Hash matching its record, each PrevHash matching the previous record's Hash (GenesisHash
// for Seq 1). It returns nil for a valid run, or an error naming the first bad seq and what is
// wrong, wrapping ErrGap for missing records and ErrBrokenChain for anything else. A run that
// starts after Seq 1 can only be checked from its first record on.
func Verify(records []discovery.Record) error {
	for i, r := range records {
		if i > 0 {
			if err := checkOrder(records, i); err != nil {
				return err
			}
		}
		if got := Hash(r); got != r.Hash {
			return fmt.Errorf("%w: seq %d: hash %q does not match its fields (%q)", ErrBrokenChain, r.Seq, r.Hash, got)
		}
		switch {
		case i > 0 && r.PrevHash != records[i-1].Hash:
			return fmt.Errorf("%w: seq %d: prev_hash does not match the hash of seq %d", ErrBrokenChain, r.Seq, records[i-1].Seq)
		case r.Seq == 1 && r.PrevHash != GenesisHash:
			return fmt.Errorf("%w: seq 1: prev_hash is %q, want the genesis hash", ErrBrokenChain, r.PrevHash)
		}
	}
	return nil
}

// checkOrder checks that records[i] follows records[i-1] and, when it does not, tells a swapped
// pair apart from missing records.
func checkOrder(records []discovery.Record, i int) error {
	want, got := records[i-1].Seq+1, records[i].Seq
	switch {
	case got == want:
		return nil
	case i+1 < len(records) && records[i+1].Seq == want:
		return fmt.Errorf("%w: seq %d: out of order, seq %d comes after it", ErrBrokenChain, got, want)
	case got == want+1:
		return fmt.Errorf("%w: seq %d: seq %d is missing before it", ErrGap, got, want)
	case got > want:
		return fmt.Errorf("%w: seq %d: seq %d to %d are missing before it", ErrGap, got, want, got-1)
	default:
		return fmt.Errorf("%w: seq %d: follows seq %d (duplicate or out of order)", ErrBrokenChain, got, records[i-1].Seq)
	}
}
