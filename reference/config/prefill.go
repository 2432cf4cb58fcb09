package config

// DefaultPrefillBudget is the engine's prefill token budget per step when a worker declares
// none. At the dev cost model (50 µs a token) it is about 100 ms of prefill per step: a prompt
// near a 4,096-token context is prefilled over two steps, and a short prompt admitted meanwhile
// gets its first token within two steps, well inside an interactive TTFT objective. It is
// vLLM's max_num_batched_tokens default for chunked prefill on smaller GPUs.
const DefaultPrefillBudget = 2048

// The orders in which an engine step's prefill budget is shared (EngineSpec.PrefillOrder).
const (
	PrefillShortestFirst = "shortest_first"
	PrefillArrival       = "arrival"
)

func (e *EngineSpec) applyPrefillDefaults() {
	if e.PrefillBudgetTokens == 0 {
		e.PrefillBudgetTokens = DefaultPrefillBudget
	}
	if e.PrefillOrder == "" {
		e.PrefillOrder = PrefillShortestFirst
	}
}

// PrefillBudget is the engine's budget per step: 0 (no chunking) when UnchunkedPrefill is set.
func (e EngineSpec) PrefillBudget() int {
	if e.UnchunkedPrefill {
		return 0
	}
	return e.PrefillBudgetTokens
}

func (e EngineSpec) validatePrefill(v *validator, field string) {
	if e.PrefillBudgetTokens < 0 {
		v.add(field+".prefill_budget_tokens", "must not be negative (unchunked_prefill: true turns chunking off)")
	}
	switch e.PrefillOrder {
	case "", PrefillShortestFirst, PrefillArrival:
	default:
		v.add(field+".prefill_order", "is %q; want %s or %s", e.PrefillOrder, PrefillShortestFirst, PrefillArrival)
	}
}
