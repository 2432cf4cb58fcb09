package driver

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/aruntime/arcert/api/outcome"
)

// Rule maps one documented error of a runtime to an outcome of the contract, for a runtime whose
// outcomes are inferred (target contract.map). Status, Type and Code must all match where set;
// Type and Code match without regard to case.
type Rule struct {
	Status int
	Type   string
	Code   string
	Class  outcome.Class
	Reason outcome.Reason
}

// matches reports whether the rule covers an error seen under status.
func (r Rule) matches(status int, e errorInfo) bool {
	return (r.Status == 0 || r.Status == status) &&
		(r.Type == "" || strings.EqualFold(r.Type, e.Type)) &&
		(r.Code == "" || strings.EqualFold(r.Code, e.Code))
}

// WithInferredOutcomes is for a runtime that does not state ARuntime outcomes (Ollama, vLLM, TGI,
// llama.cpp, OpenAI): a response that carries no statement of the contract gets its class and
// reason inferred from what OpenAI-compatible runtimes do send, and is marked Result.Inferred.
// rules, the target's map, are tried first, in order, on every error. The contract's own missing
// words (ARuntime-Outcome, X-Request-Id, aruntime_outcome) are then not listed as violations:
// they are reported once, by the outcome requirements. A response that does state an outcome is
// read and judged exactly as without the option.
func WithInferredOutcomes(rules ...Rule) Option {
	return func(c *Client) {
		c.infer = true
		c.rules = append([]Rule(nil), rules...)
	}
}

// inferred is one inferred outcome with the evidence it was inferred from, in plain words.
type inferred struct {
	class  outcome.Class
	reason outcome.Reason
	why    string
}

// knownError is what a documented error type or code of a peer means, whatever the status.
type knownError struct {
	class  outcome.Class
	reason outcome.Reason // empty for shed: the reason follows the status (queue_full 429, capacity 503)
	who    string
}

// knownCodes are error codes (OpenAI's error.code) peers document; knownTypes are error types
// (error.type, TGI's error_type), spelt as the peer spells them; they match without regard to case.
var (
	knownCodes = map[string]knownError{
		"context_length_exceeded": {outcome.Rejected, outcome.ReasonContextLengthExceeded, "OpenAI"},
		"model_not_found":         {outcome.Rejected, outcome.ReasonUnknownModel, "OpenAI"},
		"invalid_api_key":         {outcome.Rejected, outcome.ReasonUnauthenticated, "OpenAI"},
		"rate_limit_exceeded":     {outcome.Rejected, outcome.ReasonQuotaExceeded, "OpenAI"},
		"insufficient_quota":      {outcome.Rejected, outcome.ReasonQuotaExceeded, "OpenAI"},
		"server_is_overloaded":    {outcome.Shed, "", "OpenAI"},
	}
	knownTypes = map[string]knownError{
		"overloaded":                {outcome.Shed, "", "TGI"},
		"authentication_error":      {outcome.Rejected, outcome.ReasonUnauthenticated, "llama.cpp"},
		"permission_error":          {outcome.Rejected, outcome.ReasonForbidden, "llama.cpp"},
		"exceed_context_size_error": {outcome.Rejected, outcome.ReasonContextLengthExceeded, "llama.cpp"},
		// llama.cpp answers 503 "Loading model" while no model is ready to serve.
		"unavailable_error": {outcome.Failed, outcome.ReasonNoHealthyWorker, "llama.cpp"},
		// On an inference endpoint, which exists, what is not found is the model.
		"not_found_error": {outcome.Rejected, outcome.ReasonUnknownModel, "Ollama, llama.cpp"},
		"NotFoundError":   {outcome.Rejected, outcome.ReasonUnknownModel, "vLLM"},
	}
)

// maxEvidenceMessage bounds the error message quoted in Result.InferredFrom: one line of a report.
const maxEvidenceMessage = 120

// contextTooLong is the phrase OpenAI and vLLM put in a 400's message when prompt plus
// max_tokens exceed the context; vLLM sends no code for it.
const contextTooLong = "maximum context length"

// inferError infers the outcome of a refusal or failure: status is the HTTP status (for a
// mid-stream error, 0), e what the body said (hasBody false when it said nothing readable). The
// target's rules come first, then the codes and types peers document, then the status alone.
func inferError(rules []Rule, status int, e errorInfo, hasBody bool) inferred {
	evidence := describe(status, e, hasBody)
	if status == 0 {
		status = e.Status
	}
	for i, r := range rules {
		if r.matches(status, e) {
			return inferred{r.Class, r.Reason, fmt.Sprintf("%s: the target's map, rule %d", evidence, i+1)}
		}
	}
	for _, k := range []struct {
		table map[string]knownError
		key   string
		what  string
	}{{knownCodes, e.Code, "code"}, {knownTypes, e.Type, "type"}} {
		if ke, ok := lookup(k.table, k.key); ok {
			reason := ke.reason
			if ke.class == outcome.Shed {
				reason = outcome.ReasonCapacity
				if status == http.StatusTooManyRequests {
					reason = outcome.ReasonQueueFull
				}
			}
			return inferred{ke.class, reason, fmt.Sprintf("%s: %s's error %s %q", evidence, ke.who, k.what, k.key)}
		}
	}
	if (status == http.StatusBadRequest || status == 0) && strings.Contains(strings.ToLower(e.Message), contextTooLong) {
		return inferred{outcome.Rejected, outcome.ReasonContextLengthExceeded, evidence + ": the message says " + contextTooLong}
	}
	c, r := byStatus(status, hasBody)
	if status == 0 {
		return inferred{c, r, evidence + ": an error event in a stream that had begun"}
	}
	return inferred{c, r, fmt.Sprintf("%s: the default for %d", evidence, status)}
}

// byStatus is the outcome a status stands for when nothing more specific is known. 503 is shed:
// HTTP gives it to temporary overload, and Ollama answers it when its queue is full; a runtime
// that means "no healthy worker" by it says so in the target's map.
func byStatus(status int, hasBody bool) (outcome.Class, outcome.Reason) {
	switch status {
	case http.StatusUnauthorized:
		return outcome.Rejected, outcome.ReasonUnauthenticated
	case http.StatusForbidden:
		return outcome.Rejected, outcome.ReasonForbidden
	case http.StatusNotFound:
		if hasBody { // the endpoint exists and explained itself: it is the model that is missing
			return outcome.Rejected, outcome.ReasonUnknownModel
		}
		return outcome.Rejected, outcome.ReasonNotFound
	case http.StatusMethodNotAllowed:
		return outcome.Rejected, outcome.ReasonMethodNotAllowed
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return outcome.TimedOut, outcome.ReasonDeadline
	case http.StatusRequestEntityTooLarge:
		return outcome.Rejected, outcome.ReasonBodyTooLarge
	case http.StatusUnsupportedMediaType:
		return outcome.Rejected, outcome.ReasonUnsupportedMediaType
	case http.StatusTooManyRequests:
		return outcome.Shed, outcome.ReasonQueueFull
	case http.StatusNotImplemented: // a feature the runtime lacks: retrying unchanged will not help
		return outcome.Rejected, outcome.ReasonInvalidRequest
	case http.StatusBadGateway:
		return outcome.Failed, outcome.ReasonDependencyUnavailable
	case http.StatusServiceUnavailable:
		return outcome.Shed, outcome.ReasonCapacity
	}
	if status >= 400 && status < 500 {
		return outcome.Rejected, outcome.ReasonInvalidRequest
	}
	return outcome.Failed, outcome.ReasonInternal
}

// describe renders the evidence of an error in plain words.
func describe(status int, e errorInfo, hasBody bool) string {
	var parts []string
	if status != 0 {
		parts = append(parts, fmt.Sprintf("status %d", status))
	}
	if !hasBody {
		return strings.Join(append(parts, "no error body"), ", ")
	}
	if e.Type != "" {
		parts = append(parts, fmt.Sprintf("error type %q", e.Type))
	}
	if e.Code != "" {
		parts = append(parts, fmt.Sprintf("code %q", e.Code))
	}
	if m := e.Message; m != "" {
		if len(m) > maxEvidenceMessage {
			m = m[:maxEvidenceMessage] + "…"
		}
		parts = append(parts, fmt.Sprintf("message %q", m))
	}
	return strings.Join(parts, ", ")
}

// lookup finds key in a table of documented errors, without regard to case.
func lookup(table map[string]knownError, key string) (knownError, bool) {
	if key == "" {
		return knownError{}, false
	}
	for k, ke := range table {
		if strings.EqualFold(k, key) {
			return ke, true
		}
	}
	return knownError{}, false
}
