package engine

import (
	"context"
	"time"
)

// loop is the state only the Run goroutine touches. Its slices are reused
// across steps so a step does not allocate.
type loop struct {
	e        *Engine
	running  []*seq
	admitted []*seq // admitted in the current step, awaiting the prefix-cache lookup
	// prefilling are the running sequences with prompt tokens left to prefill, in admission order.
	prefilling []*seq
	order      []*seq // scratch for chunk's shortest-first order, reused across steps
	dropped    []*seq // cancelled sequences taken from Engine.cancelled
	kvUsed     int
	steps      uint64
}

// Run is the scheduling loop. It returns ctx.Err() once ctx is done, after
// every pending sequence got a final Event with ErrStopped; Submit returns
// ErrStopped from then on. An engine runs once: a second call returns
// ErrRunning while the first is running and ErrStopped after it ended.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	switch e.state {
	case stateRunning:
		e.mu.Unlock()
		return ErrRunning
	case stateStopped:
		e.mu.Unlock()
		return ErrStopped
	}
	e.state = stateRunning
	e.mu.Unlock()

	l := &loop{
		e:          e,
		running:    make([]*seq, 0, e.cfg.MaxBatch),
		admitted:   make([]*seq, 0, e.cfg.MaxBatch),
		prefilling: make([]*seq, 0, e.cfg.MaxBatch),
	}
	done := ctx.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	defer l.shutdown()

	for {
		if l.sync() == 0 {
			// Nothing to run: block until Submit, a cancellation or shutdown.
			select {
			case <-e.wake:
				continue
			case <-done:
				return ctx.Err()
			}
		}
		select {
		case <-done:
			return ctx.Err()
		default:
		}

		prefill := l.prefill()
		c := e.cfg.Cost
		d := time.Duration(prefill)*c.PrefillPerToken +
			c.DecodeStepBase + time.Duration(len(l.running))*c.DecodeStepPerSeq
		if d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-done:
				return ctx.Err()
			}
		}
		batch := len(l.running)
		l.decode()
		l.steps++
		if e.obs != nil {
			e.obs.ObserveStep(batch, prefill, d)
		}
	}
}

// sync is the loop's one critical section per step: it drops cancelled
// sequences, admits waiting ones FIFO while the batch and KV allow, and
// publishes Stats. It returns the number of running sequences.
func (l *loop) sync() int {
	e := l.e
	e.mu.Lock()
	defer e.mu.Unlock()

	l.dropped, e.cancelled = e.cancelled, l.dropped[:0]
	for _, s := range l.dropped {
		switch s.state {
		case seqWaiting:
			e.nWaiting--
		case seqRunning:
			l.kvUsed -= s.kv
		default:
			continue // finished before its cancellation was seen
		}
		s.finish(s.ctx.Err(), "")
	}
	clear(l.dropped)
	l.compact()

	for len(l.running) < e.cfg.MaxBatch {
		s := e.waiting.peek()
		if s == nil {
			break
		}
		if s.state == seqDone {
			e.waiting.pop() // cancelled while waiting
			continue
		}
		if l.kvUsed+s.kv > e.cfg.KVCapacityTokens {
			break // FIFO: later requests do not overtake the head
		}
		e.waiting.pop()
		e.nWaiting--
		s.state = seqRunning
		l.kvUsed += s.kv
		l.running = append(l.running, s)
		l.admitted = append(l.admitted, s)
	}

	e.stats.Waiting = e.nWaiting
	e.stats.Running = len(l.running)
	e.stats.KVUsedTokens = l.kvUsed
	e.stats.Steps = l.steps
	return len(l.running)
}

// prefill looks the newly admitted sequences up in the prefix cache and
// returns the prompt tokens that must be computed in this step, at most
// Config.PrefillBudget of them when a budget is set (see chunk.go). At least
// one prompt token is always prefilled, as a real engine needs the last
// position's logits.
func (l *loop) prefill() int {
	for _, s := range l.admitted {
		cached := 0
		if cache := l.e.cache; cache != nil && len(s.keys) > 0 {
			n := cache.Match(s.keys)
			cache.InsertFor(s.owner, s.keys[n:])
			cached = min(n*l.e.cfg.BlockSize, s.usage.PromptTokens-1)
		}
		s.keys = nil
		s.usage.CachedTokens = cached
		s.pending = s.usage.PromptTokens - cached
		l.prefilling = append(l.prefilling, s)
	}
	clear(l.admitted)
	l.admitted = l.admitted[:0]
	return l.chunk()
}

// decode emits one token for every running sequence and finishes those that
// reached MaxTokens, freeing their KV.
func (l *loop) decode() {
	for _, s := range l.running {
		if s.pending > 0 {
			continue // still prefilling: its first token comes after its last chunk
		}
		s.ch <- Event{Text: tokenText(s.base, s.usage.CompletionTokens)}
		s.usage.CompletionTokens++
		if s.usage.CompletionTokens == s.max {
			l.kvUsed -= s.kv
			s.finish(nil, FinishLength)
		}
	}
	l.compact()
}

// compact removes finished sequences from running, keeping order.
func (l *loop) compact() {
	kept := l.running[:0]
	for _, s := range l.running {
		if s.state != seqDone {
			kept = append(kept, s)
		}
	}
	clear(l.running[len(kept):])
	l.running = kept
}

// shutdown stops the engine and aborts every pending sequence.
func (l *loop) shutdown() {
	e := l.e
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state = stateStopped
	for s := e.waiting.pop(); s != nil; s = e.waiting.pop() {
		if s.state != seqDone {
			s.finish(ErrStopped, "")
		}
	}
	for _, s := range l.running {
		s.finish(ErrStopped, "")
	}
	clear(l.running)
	l.running = l.running[:0]
	clear(l.prefilling)
	l.prefilling = l.prefilling[:0]
	l.kvUsed = 0
	e.nWaiting = 0
	e.cancelled = nil
	e.stats.Waiting, e.stats.Running, e.stats.KVUsedTokens = 0, 0, 0
	e.stats.Steps = l.steps
}

// finish sends the sequence's final Event and closes its stream. The
// channel has room for it: at most MaxTokens token events precede it.
func (s *seq) finish(err error, reason string) {
	s.state = seqDone
	s.stop()
	s.ch <- Event{Done: true, Usage: s.usage, FinishReason: reason, Err: err}
	close(s.ch)
}
