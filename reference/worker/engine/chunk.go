package engine

import "slices"

// chunk spends one step's prefill budget on the sequences that still have
// prompt tokens to prefill and returns the tokens it spent. Without a budget
// every pending prompt is prefilled whole, so one step may carry a burst of
// long prompts and every other running sequence waits for it. With a budget
// the step carries at most that many prompt tokens: the shortest remaining
// prefills go first (a short interactive prompt is done in one step, whatever
// long prefill is in progress), or the oldest with PrefillArrivalOrder.
// Sequences dropped since the last step are removed here.
func (l *loop) chunk() int {
	live := l.prefilling[:0]
	for _, s := range l.prefilling {
		if s.state == seqRunning && s.pending > 0 {
			live = append(live, s)
		}
	}
	clear(l.prefilling[len(live):])
	l.prefilling = live

	budget := l.e.cfg.PrefillBudget
	if budget == 0 {
		total := 0
		for _, s := range l.prefilling {
			total += s.pending
			s.pending = 0
		}
		clear(l.prefilling)
		l.prefilling = l.prefilling[:0]
		return total
	}
	order := l.prefilling
	if !l.e.cfg.PrefillArrivalOrder {
		// A stable sort keeps admission order among equals, so long prompts of the same length
		// are prefilled one after another rather than all at once.
		l.order = append(l.order[:0], l.prefilling...)
		order = l.order
		slices.SortStableFunc(order, func(a, b *seq) int { return a.pending - b.pending })
	}
	spent := 0
	for _, s := range order {
		if spent == budget {
			break
		}
		n := min(s.pending, budget-spent)
		s.pending -= n
		spent += n
	}
	clear(l.order)
	kept := l.prefilling[:0]
	for _, s := range l.prefilling {
		if s.pending > 0 {
			kept = append(kept, s)
		}
	}
	clear(l.prefilling[len(kept):])
	l.prefilling = kept
	return spent
}
