package device

import (
	"errors"
	"math"
	"testing"
)

const gib = 1 << 30

func TestSimInfo(t *testing.T) {
	a, b := NewSim(3, "sim-a100", 80*gib), NewSim(3, "sim-a100", 80*gib)
	if a.Info().UUID != b.Info().UUID {
		t.Fatal("UUID not deterministic from index")
	}
	if NewSim(4, "x", 1).Info().UUID == a.Info().UUID {
		t.Fatal("different indexes share a UUID")
	}
	info := a.Info()
	if info.Name != "sim-a100" || info.MemoryTotalBytes != 80*gib || info.MemoryUsedBytes != 0 {
		t.Fatalf("info = %+v", info)
	}
}

func TestReserveRelease(t *testing.T) {
	s := NewSim(0, "sim", 10*gib)
	if err := s.Reserve(8 * gib); err != nil {
		t.Fatal(err)
	}
	if err := s.Reserve(3 * gib); !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("Reserve beyond free = %v, want ErrOutOfMemory", err)
	}
	if got := s.Info().MemoryUsedBytes; got != 8*gib {
		t.Fatalf("used after failed reserve = %d", got)
	}
	s.Release(2 * gib)
	if err := s.Reserve(4 * gib); err != nil {
		t.Fatal(err)
	}
	s.Release(100 * gib)
	if got := s.Info().MemoryUsedBytes; got != 0 {
		t.Fatalf("used after over-release = %d, want 0", got)
	}
}

func TestKVCapacityTokens(t *testing.T) {
	s := NewSim(0, "sim", 1000)
	if got := s.KVCapacityTokens(10, 0.9); got != 90 {
		t.Fatalf("empty device: %d, want 90", got)
	}
	if err := s.Reserve(500); err != nil {
		t.Fatal(err)
	}
	if got := s.KVCapacityTokens(30, 0.9); got != 13 { // (900-500)/30 = 13.3
		t.Fatalf("after weights: %d, want 13", got)
	}
	if got := s.KVCapacityTokens(10, 0.4); got != 0 { // 400-500 < 0
		t.Fatalf("weights above budget: %d, want 0", got)
	}
	for _, u := range []float64{0, -1, math.NaN()} {
		if got := s.KVCapacityTokens(10, u); got != 0 {
			t.Fatalf("utilization %v: %d, want 0", u, got)
		}
	}
	if got := s.KVCapacityTokens(0, 0.9); got != 0 {
		t.Fatalf("zero bytes per token: %d, want 0", got)
	}
	if got := s.KVCapacityTokens(10, 2); got != 50 { // clamped to 1
		t.Fatalf("utilization 2: %d, want 50", got)
	}
}
