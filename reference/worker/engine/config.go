package engine

import (
	"fmt"
	"time"
)

// CostModel is how long simulated work takes. It makes latency depend on
// what a real engine's latency depends on: prompt tokens not found in the
// prefix cache, and the size of the decode batch.
type CostModel struct {
	PrefillPerToken  time.Duration // time per UNCACHED prompt token
	DecodeStepBase   time.Duration // time of one decode step for a batch of one
	DecodeStepPerSeq time.Duration // added to a decode step per sequence in the batch
}

// Config sizes the engine. Every limit is explicit so saturation is
// reproducible: the same Config and load give the same queueing.
type Config struct {
	MaxBatch         int // running sequences at most
	MaxWaiting       int // bounded waiting queue; Submit beyond it returns ErrOverloaded
	KVCapacityTokens int // a running sequence reserves len(prompt)+MaxTokens KV tokens
	BlockSize        int // prefix-cache block size in tokens
	Cost             CostModel
	// PrefillBudget caps the uncached prompt tokens one step prefills (chunked prefill, as
	// vLLM's max_num_batched_tokens): a prompt longer than the budget is prefilled over several
	// steps, so a burst of long prompts cannot stall the other sequences' next token for the
	// whole of its prefill. 0 is no cap: every admitted prompt is prefilled in one step.
	PrefillBudget int
	// PrefillArrivalOrder shares the budget in admission order, so a short prompt waits until
	// the long prompts admitted before it are prefilled; by default the sequences with the
	// fewest prompt tokens left go first, so a short interactive prompt is never queued behind
	// another's long prefill.
	PrefillArrivalOrder bool
}

// validate returns an error wrapping ErrInvalid that names the first bad
// field.
func (c Config) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxBatch", c.MaxBatch},
		{"MaxWaiting", c.MaxWaiting},
		{"KVCapacityTokens", c.KVCapacityTokens},
		{"BlockSize", c.BlockSize},
	} {
		if f.v < 1 {
			return fmt.Errorf("%w: Config.%s is %d, want at least 1", ErrInvalid, f.name, f.v)
		}
	}
	if c.PrefillBudget < 0 {
		return fmt.Errorf("%w: Config.PrefillBudget is %d, want at least 0", ErrInvalid, c.PrefillBudget)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"PrefillPerToken", c.Cost.PrefillPerToken},
		{"DecodeStepBase", c.Cost.DecodeStepBase},
		{"DecodeStepPerSeq", c.Cost.DecodeStepPerSeq},
	} {
		if f.d < 0 {
			return fmt.Errorf("%w: Config.Cost.%s is %v, want at least 0", ErrInvalid, f.name, f.d)
		}
	}
	return nil
}
