package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aruntime/arcert/api/discovery"
)

// hashPrefix names the hash function in every Hash and PrevHash, so a later change of function
// is visible in the data rather than silently incomparable.
const hashPrefix = "sha256:"

// GenesisHash is the PrevHash of the first record (Seq 1). It is a fixed value of the same form
// as every other hash, so that "first record" is checked like any other link and a chain cannot
// be truncated at the front by blanking a PrevHash.
const GenesisHash = hashPrefix + "0000000000000000000000000000000000000000000000000000000000000000"

// canonical is the encoding that Hash covers: the record with Hash cleared and Time as a string
// in UTC with RFC 3339 nanoseconds, so the same instant in any location or with a monotonic clock
// reading hashes the same. Its Time field shadows the embedded one.
type canonical struct {
	discovery.Record
	Time string `json:"time"`
}

// Hash returns "sha256:" and the hex SHA-256 of r's canonical encoding: JSON of every field
// except Hash, with Time in UTC RFC 3339 nanoseconds. It returns "" for a record with no
// canonical encoding (a NaN or infinite DurationMS); Append refuses such records, so every
// stored record has a hash.
func Hash(r discovery.Record) string {
	b, err := encode(r)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hashPrefix + hex.EncodeToString(sum[:])
}

// encode is r's canonical encoding.
func encode(r discovery.Record) ([]byte, error) {
	r.Hash = ""
	return json.Marshal(canonical{Record: r, Time: r.Time.UTC().Format(time.RFC3339Nano)})
}

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
