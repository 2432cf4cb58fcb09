package discovery

import (
	"errors"
	"testing"
	"time"
)

func chain(n int) []Record {
	var out []Record
	prev := GenesisHash
	for i := 1; i <= n; i++ {
		r := Record{Seq: uint64(i), RequestID: "r", Time: time.Unix(int64(i), 0), Tenant: "acme", PrevHash: prev}
		r.Hash = RecordHash(r)
		prev = r.Hash
		out = append(out, r)
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	good := chain(5)
	if err := VerifyChain(good); err != nil {
		t.Fatal(err)
	}
	tampered := chain(5)
	tampered[2].Tenant = "globex"
	if err := VerifyChain(tampered); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("tampered: %v", err)
	}
	gap := append(chain(5)[:2], chain(5)[3:]...)
	if err := VerifyChain(gap); !errors.Is(err, ErrGap) {
		t.Fatalf("gap: %v", err)
	}
	rehashed := chain(5)
	rehashed[2].Tenant = "globex"
	rehashed[2].Hash = RecordHash(rehashed[2])
	if err := VerifyChain(rehashed); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("a rewritten record with a fresh hash must break the next link: %v", err)
	}
	if err := VerifyChain(chain(5)[2:]); err != nil {
		t.Fatalf("a run starting mid-chain: %v", err)
	}
}
