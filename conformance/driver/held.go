package driver

import "sync/atomic"

// held counts a Client's calls in flight to each router, to tell when the harness itself held
// requests back: past its bound of calls at one router (ConnectionBound), the next waits in the
// transport for a connection, and its latency (and, if its context ends first, its outcome) is then the
// harness's doing, not the runtime's. A run that judges latency or outcomes under a flood reads
// ConnectionWaits and declares itself invalid when any call waited.
type held struct {
	// bound is the transport's connections per router; 0 when the caller brought its own
	// client (WithHTTPClient), whose bound the driver does not know, and nothing is counted.
	bound int64
	// inFlight has a counter for every router of the Client, made before its first call and
	// only read after, so no lock is taken per call.
	inFlight map[string]*atomic.Int64
	waits    atomic.Int64
}

// newHeld counts calls to bases against bound (0: not at all).
func newHeld(bound int64, bases []string) *held {
	h := &held{bound: bound, inFlight: make(map[string]*atomic.Int64, len(bases))}
	for _, b := range bases {
		if _, ok := h.inFlight[b]; !ok {
			h.inFlight[b] = new(atomic.Int64)
		}
	}
	return h
}

// enter records a call to base and returns the function that records its end.
func (h *held) enter(base string) (leave func()) {
	n, ok := h.inFlight[base]
	if h.bound == 0 || !ok {
		return func() {}
	}
	if n.Add(1) > h.bound {
		h.waits.Add(1)
	}
	return func() { n.Add(-1) }
}

// ConnectionWaits is how many calls so far began while their router already had
// ConnectionBound calls of this Client in flight, so that they waited in the harness for a
// connection. A run reads it before and after: any difference means the harness, not the
// runtime, held some of its requests. It is always 0 for a Client built WithHTTPClient.
func (c *Client) ConnectionWaits() int64 { return c.held.waits.Load() }

// ConnectionBound is how many connections the Client opens to each router (MaxConnsPerHost, or
// WithMaxConnsPerRouter's), or 0 for a Client built WithHTTPClient.
func (c *Client) ConnectionBound() int64 { return c.held.bound }
