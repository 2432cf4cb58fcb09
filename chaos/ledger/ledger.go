// Package ledger records every request of a run (a Core load run, a fault run, a game day, the
// failover benchmark) as one record type, and judges the record afterwards, as pure functions: each request must end in exactly one terminal outcome of the contract, none may
// outlive its deadline, and a request whose answer was lost in transit (indeterminate) is resolved
// after healing against the runtime's own durable evidence as recovered, lost or duplicated, the
// way Jepsen and etcd's robustness tests resolve theirs.
package ledger

import (
	"slices"
	"sync"
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

// Entry is one request as the client saw it.
type Entry struct {
	// Seq orders entries by issue; Tenant and Class say who sent what.
	Seq    int    `json:"seq"`
	Tenant string `json:"tenant"`
	Class  string `json:"class,omitempty"`
	// Phase is the scenario phase the request was scheduled in (game days), so a stored ledger
	// can be judged again phase by phase.
	Phase string `json:"phase,omitempty"`
	// Path is the way the request reached the runtime (http, http-stream, grpc, grpc-stream…), so
	// a check can judge each wire on its own.
	Path string `json:"path,omitempty"`
	// Endpoint is the router the request was sent to (an HTTP base URL or a gRPC address), so a
	// run spread over several routers can be judged router by router; empty in ledgers written
	// before targets could list several.
	Endpoint string `json:"endpoint,omitempty"`
	// Scheduled is when an open-loop generator meant to send the request (zero when it was not
	// scheduled): a load run's plots count time from its first scheduled arrival, which a late
	// generator does not move.
	Scheduled time.Time `json:"scheduled,omitzero"`
	// Start and End are when the request was sent and when its last byte (or error) arrived.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// TTFT is the time from Start to the first content (to the whole answer when not streamed);
	// 0 when nothing was served.
	TTFT time.Duration `json:"ttft,omitempty"`
	// ITL holds the gaps between consecutive content chunks, for checks of an inter-token
	// latency objective; recorded by the runs that judge one.
	ITL []time.Duration `json:"itl,omitempty"`
	// Status is the HTTP status of the response; 0 over gRPC or when no response arrived.
	Status int `json:"status,omitempty"`
	// RetryAfter is the response's Retry-After, which a shed or refused client must be given;
	// 0 when absent.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// PromptTokens is the prompt's length as the runtime's usage stated it (0 when it stated
	// none), so a run can tell a prompt near the context limit and a token quota can be measured.
	PromptTokens int `json:"prompt_tokens,omitempty"`
	// CompletionTokens is the output's length as the runtime's usage stated it (0 when it stated
	// none), so a token quota can be measured against what a request generated as well.
	CompletionTokens int `json:"completion_tokens,omitempty"`
	// Deadline is the request's declared deadline (its traffic class's).
	Deadline time.Duration `json:"deadline"`
	// RequestID is the runtime's id for it, empty when no response header arrived.
	RequestID string           `json:"request_id,omitempty"`
	Outcome   outcome.Class    `json:"outcome,omitempty"`
	Reason    outcome.Reason   `json:"reason,omitempty"`
	ServedBy  outcome.ServedBy `json:"served_by"`
	// Indeterminate means the exchange broke after the request may have reached the runtime.
	Indeterminate bool `json:"indeterminate,omitempty"`
	// Error is the client's error, in words, when the exchange failed (a transport error, the
	// run's own context ending): no outcome reached the client. Empty when one did.
	Error string `json:"error,omitempty"`
	// Violations are the contract breaches the driver saw in the response.
	Violations []string `json:"violations,omitempty"`
	// MidStream reports a stream that ended with an error event after content.
	MidStream bool `json:"mid_stream,omitempty"`
	Tokens    int  `json:"tokens,omitempty"`
}

// Latency is how long the request took end to end.
func (e Entry) Latency() time.Duration { return e.End.Sub(e.Start) }

// Served reports whether the runtime served the request (completed, rerouted or degraded).
func (e Entry) Served() bool {
	switch e.Outcome {
	case outcome.Completed, outcome.Rerouted, outcome.Degraded:
		return true
	}
	return false
}

// Ledger collects entries from concurrent senders.
//
// It keeps them in blocks of blockEntries rather than one slice: appending to one slice copied
// every entry so far each time it doubled, under the lock every sender records through (at
// 65,536 entries of 416 bytes, 27 MB copied into 55 MB freshly zeroed), a stall of the whole
// open-loop run that its p99 then showed. A full block is never copied or moved.
type Ledger struct {
	mu     sync.Mutex
	blocks [][]Entry
	n      int
}

// blockEntries is how many entries one block holds (about 1.7 MB).
const blockEntries = 4096

// Record adds e, numbering it in arrival order when its Seq is 0.
func (l *Ledger) Record(e Entry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Seq == 0 {
		e.Seq = l.n + 1
	}
	switch {
	case len(l.blocks) == 0:
		// The first block grows as a slice does, so a ledger of a few probes stays small; it
		// is copied only while it holds fewer than blockEntries.
		l.blocks = append(l.blocks, nil)
	case len(l.blocks[len(l.blocks)-1]) == blockEntries:
		l.blocks = append(l.blocks, make([]Entry, 0, blockEntries))
	}
	last := &l.blocks[len(l.blocks)-1]
	*last = append(*last, e)
	l.n++
}

// Entries returns a copy of every entry, ordered by start.
func (l *Ledger) Entries() []Entry {
	l.mu.Lock()
	out := make([]Entry, 0, l.n)
	for _, b := range l.blocks {
		out = append(out, b...)
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int { return a.Start.Compare(b.Start) })
	return out
}

// Window is a span of time, a fault's or a phase's.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Started returns the entries that started inside w.
func Started(entries []Entry, w Window) []Entry {
	var out []Entry
	for _, e := range entries {
		if !e.Start.Before(w.Start) && e.Start.Before(w.End) {
			out = append(out, e)
		}
	}
	return out
}

// Where returns the entries for which keep is true.
func Where(entries []Entry, keep func(Entry) bool) []Entry {
	var out []Entry
	for _, e := range entries {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}
