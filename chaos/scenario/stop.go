package scenario

import (
	"sync"
	"time"
)

// Abort rules, as AbortRecord.Rule names them.
const (
	RuleErrorBudget = "error_budget"
	RuleDeadline    = "deadline"
	RuleInvariant   = "invariant"
	RuleOperator    = "operator"
	RuleSignal      = "signal"
	RulePanic       = "panic"
	// RuleError is the harness failing (a fault not injected, the sink failing): the run is
	// errored, not aborted.
	RuleError = "error"
)

// stopper ends the run's load the first time a rule fires and remembers why; later rules are
// ignored, the first reason is the run's.
type stopper struct {
	mu     sync.Mutex
	rec    *AbortRecord
	errMsg string
	done   chan struct{}
	cancel func()
	emit   func(Event)
}

func newStopper(cancel func(), emit func(Event)) *stopper {
	return &stopper{done: make(chan struct{}), cancel: cancel, emit: emit}
}

// fire stops the run for rule with reason, at at. A harness failure (RuleError, RulePanic) also
// sets the run's error.
func (s *stopper) fire(at time.Time, rule, reason string) {
	s.mu.Lock()
	if s.rec != nil {
		s.mu.Unlock()
		return
	}
	s.rec = &AbortRecord{At: at, Reason: reason, Rule: rule}
	if rule == RuleError || rule == RulePanic {
		s.errMsg = reason
	}
	close(s.done)
	s.mu.Unlock()
	s.cancel()
	s.emit(Event{Kind: EventAbort, At: at, Message: rule + ": " + reason})
}

// record returns why the run stopped, nil when it was not stopped.
func (s *stopper) record() (*AbortRecord, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec == nil {
		return nil, ""
	}
	cp := *s.rec
	return &cp, s.errMsg
}

// stopped reports whether a rule fired.
func (s *stopper) stopped() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}
