package driver

import (
	"fmt"

	"github.com/aruntime/arcert/api/outcome"
)

// responseFacts are what the recorder saw of a response that an inference needs: whether it was
// complete and well formed, and what an error said.
type responseFacts struct {
	// errInfo is the error body of a refusal, or a stream's error event.
	errInfo    errorInfo
	hasErrInfo bool
	streamErr  bool
	// plainProblem says why a 2xx non-streamed body is not a complete completion; "" when it is.
	plainProblem string
	finishReason string
	// choiceEvents counts stream events that carried choices; badEvents those that were not JSON.
	choiceEvents int
	badEvents    int
	sawDone      bool
}

// contract records a violation that only the outcome contract makes one: a missing
// ARuntime-Outcome, X-Request-Id or aruntime_outcome. While outcomes may be inferred it is
// remembered, so that finish can withdraw it if the response stated no outcome at all.
func (r *recorder) contract(format string, args ...any) {
	if r.infer {
		r.contractOnly = append(r.contractOnly, len(r.res.ContractViolations))
	}
	r.violate(format, args...)
}

// withdrawContract removes the violations contract recorded: for a runtime that does not speak
// the contract they are one finding, reported once by the outcome requirements, not per response.
func (r *recorder) withdrawContract() {
	if len(r.contractOnly) == 0 {
		return
	}
	kept := r.res.ContractViolations[:0]
	next := 0
	for i, v := range r.res.ContractViolations {
		if next < len(r.contractOnly) && r.contractOnly[next] == i {
			next++
			continue
		}
		kept = append(kept, v)
	}
	r.res.ContractViolations = kept
}

// stated reports whether any part of the response stated an outcome of the contract.
func (r *recorder) stated() bool {
	return r.header.present || r.trailer.present || r.body.present || r.final.present
}

// inferredEnd reports that a stream whose outcome is being inferred has reached its end: a
// finish_reason arrived, so a connection cut afterwards changes nothing.
func (r *recorder) inferredEnd() bool {
	return r.infer && !r.stated() && r.facts.finishReason != ""
}

// inferOutcome settles the outcome of a response that stated none, from what it did send.
// Served means a complete, well-formed response: a refusal, an empty or malformed body or a stream
// that stopped before its end is not served, whatever its status.
func (r *recorder) inferOutcome() {
	var in inferred
	f := &r.facts
	switch {
	case r.res.Status/100 != 2:
		in = inferError(r.rules, r.res.Status, f.errInfo, f.hasErrInfo)
	case r.streamed:
		in = r.inferStream()
	case f.plainProblem != "":
		in = inferred{outcome.Failed, outcome.ReasonInternal, fmt.Sprintf("status %d but %s", r.res.Status, f.plainProblem)}
	default:
		in = inferred{outcome.Completed, outcome.ReasonNone, fmt.Sprintf("status %d, a complete completion (finish_reason %q)", r.res.Status, f.finishReason)}
	}
	r.res.Outcome, r.res.Reason, r.res.ServedBy = in.class, in.reason, outcome.ServedBy{}
	r.res.Inferred, r.res.InferredFrom = true, in.why
}

// inferStream infers a 2xx stream's outcome: completed when it ended as OpenAI streams end (a
// finish_reason or data: [DONE]) after at least one completion chunk, with no error event and no
// malformed event. A stream the runtime closed cleanly before that end is failed: the runtime
// ended it unfinished. (A connection broken mid-stream never gets here: it is Indeterminate.)
func (r *recorder) inferStream() inferred {
	f := &r.facts
	switch {
	case f.streamErr:
		return inferError(r.rules, 0, f.errInfo, true)
	case f.badEvents > 0:
		return inferred{outcome.Failed, outcome.ReasonInternal, fmt.Sprintf("%d stream events were not JSON", f.badEvents)}
	case f.choiceEvents == 0:
		return inferred{outcome.Failed, outcome.ReasonInternal, "the stream carried no completion chunk"}
	case f.finishReason != "":
		return inferred{outcome.Completed, outcome.ReasonNone, fmt.Sprintf("a complete stream of %d content chunks (finish_reason %q)", r.res.Tokens, f.finishReason)}
	case f.sawDone:
		return inferred{outcome.Completed, outcome.ReasonNone, fmt.Sprintf("a complete stream of %d content chunks (data: [DONE])", r.res.Tokens)}
	}
	return inferred{outcome.Failed, outcome.ReasonInternal,
		fmt.Sprintf("the stream ended after %d content chunks without a finish_reason or data: [DONE]", r.res.Tokens)}
}
