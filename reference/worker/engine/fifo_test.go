package engine

import "testing"

func TestFIFOWrapsAndGrows(t *testing.T) {
	var q fifo
	seqs := make([]*seq, 100)
	for i := range seqs {
		seqs[i] = &seq{max: i}
	}
	in, out := 0, 0
	for round := range 10 { // interleave so the ring wraps before it grows
		for range 5 + round {
			q.push(seqs[in])
			in++
		}
		for range 3 {
			if s := q.pop(); s != seqs[out] {
				t.Fatalf("pop %d out of order", out)
			}
			out++
		}
	}
	for q.len() > 0 {
		if q.peek() != seqs[out] || q.pop() != seqs[out] {
			t.Fatalf("drain %d out of order", out)
		}
		out++
	}
	if out != in || q.pop() != nil || q.peek() != nil {
		t.Fatalf("in %d out %d", in, out)
	}
}
