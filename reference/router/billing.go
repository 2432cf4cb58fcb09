package router

import "github.com/aruntime/arcert/api/outcome"

// BillingDefects are the router's bugs of billing: evidence that bills something other than what
// the client received.
type BillingDefects struct {
	// OnlyCompleted bills nothing for a request that was not served to the end: a stream the
	// client cut, one whose deadline passed, or one whose worker was lost records 0 tokens and 0
	// cost however much of it went out.
	OnlyCompleted bool
	// RequestedNotDelivered bills an unfinished request as if all the completion tokens it asked
	// for (max_tokens) had gone out, rather than those that did.
	RequestedNotDelivered bool
	// NothingWhenFailedMidway bills 0 tokens and 0 cost for a stream that failed after output went
	// out (its worker lost), while every ending a client can provoke is billed right.
	NothingWhenFailedMidway bool
	// CoalescedBillsRequested, with GRPCCoalescedTokens, bills a gRPC call whose worker stated no
	// usage (one cut by its client, its deadline or a lost worker) its max_tokens, as a door that
	// sends several tokens a message and so keeps no count of those that went out might; HTTP is
	// billed right.
	CoalescedBillsRequested bool
}

// holdsBack is an emitter that may hold tokens it accepted but has not sent yet (the
// GRPCCoalescedTokens defect's partial message): an unfinished request did not deliver them.
type holdsBack interface{ unsent() int }

// requestedBiller is an emitter that bills an unfinished request its max_tokens (the
// CoalescedBillsRequested defect).
type requestedBiller interface{ billsRequested() bool }

// withholder is an emitter whose output reaches the client only when the request is served (a
// plain HTTP body); an unserved request's tokens never went out on it.
type withholder interface{ withholds() bool }

// delivered is the usage of a request as delivered at the moment it ended, whatever the ending;
// it is what the client is told (when its wire can still tell it) and what evidence bills. A
// request that ran to the end is billed as its worker or provider counted it. Any other ending
// (the client went away, the deadline passed, the worker was lost, the client read too slowly,
// or an ending yet to be named) is billed for its prompt once the prompt was processed, which the
// first token shows, and for the completion tokens that went out before the end: none when the
// emitter withholds an unserved request's output, and nothing at all before the first token.
func delivered(j job, end ending, em emitter) tokenUsage {
	if end.reported {
		return end.usage
	}
	if !end.started {
		return tokenUsage{}
	}
	u := tokenUsage{Prompt: int64(j.c.PromptTokens), Completion: end.delivered}
	if h, ok := em.(holdsBack); ok {
		u.Completion -= int64(h.unsent())
	}
	if w, ok := em.(withholder); ok && w.withholds() && !end.class.Served() {
		u.Completion = 0
	}
	if b, ok := em.(requestedBiller); ok && b.billsRequested() {
		u.Completion = int64(j.c.MaxTokens)
	}
	return u
}

// evidence is the usage evidence bills for a request that ended as end, its usage settled by
// delivered; the defects bill something else.
func (d BillingDefects) evidence(j job, end ending) tokenUsage {
	switch {
	case d.OnlyCompleted && !end.class.Served():
		return tokenUsage{}
	case d.NothingWhenFailedMidway && end.class == outcome.Failed && end.started && end.reason != outcome.ReasonClientCancelled:
		return tokenUsage{}
	case d.RequestedNotDelivered && !end.reported && end.started:
		return tokenUsage{Prompt: end.usage.Prompt, Completion: int64(j.c.MaxTokens)}
	}
	return end.usage
}
