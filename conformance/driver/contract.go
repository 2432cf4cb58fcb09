package driver

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// statement is one place where the runtime stated an outcome: the header, a trailer, a body or a
// stream's final event. The contract is judged per statement, then across them.
type statement struct {
	present  bool
	source   string
	class    outcome.Class
	reason   outcome.Reason
	servedBy outcome.ServedBy
}

// recorder fills one Result while its response is read.
type recorder struct {
	res      *Result
	header   statement
	trailer  statement
	body     statement // non-streamed: the body's aruntime_outcome
	final    statement // streamed: the final or error event
	streamed bool
	// onContent is Call.OnContent.
	onContent func(tokens int)
	// infer and rules are the Client's WithInferredOutcomes; contractOnly (the indexes of
	// violations only the contract makes) and facts serve the inference (inferresult.go).
	infer        bool
	rules        []Rule
	contractOnly []int
	facts        responseFacts
}

// violate records one contract violation.
func (r *recorder) violate(format string, args ...any) {
	r.res.ContractViolations = append(r.res.ContractViolations, fmt.Sprintf(format, args...))
}

// readHeader records what the response headers say, before the body is read.
func (r *recorder) readHeader(resp *http.Response) {
	r.res.Status = resp.StatusCode
	r.res.RequestID = resp.Header.Get(outcome.HeaderRequestID)
	if r.res.RequestID == "" {
		r.contract("missing %s header", outcome.HeaderRequestID)
	}
	r.header = statementFromHeader(resp.Header, "header", true, r.contract)
	r.res.HeaderOutcome = r.header.class
	if v := resp.Header.Get("Retry-After"); v != "" {
		d, ok := parseRetryAfter(v, time.Now())
		if !ok {
			r.violate("Retry-After %q is neither seconds nor an HTTP date", v)
		}
		r.res.RetryAfter = d
	}
}

// finish reads the trailer once the body is drained, checks the statements against each other and
// settles the authoritative outcome.
func (r *recorder) finish(resp *http.Response) {
	if resp.Trailer.Get(outcome.HeaderOutcome) != "" {
		r.trailer = statementFromHeader(resp.Trailer, "trailer", false, r.violate)
	}
	if r.infer && !r.stated() {
		r.withdrawContract() // what the contract would have said is judged once, elsewhere
		r.inferOutcome()
		return
	}
	var order []statement
	if r.streamed {
		if !r.final.present {
			r.violate("stream ended without a final aruntime_outcome event")
		}
		r.disagree(r.final, r.trailer)
		order = []statement{r.final, r.trailer, r.header}
	} else {
		r.disagree(r.header, r.body)
		r.disagree(r.header, r.trailer)
		order = []statement{r.trailer, r.header, r.body}
	}
	for _, s := range order {
		if s.present {
			r.res.Outcome, r.res.Reason, r.res.ServedBy = s.class, s.reason, s.servedBy
			break
		}
	}
	if r.res.Outcome == outcome.Shed && resp.Header.Get("Retry-After") == "" {
		r.violate("shed response without Retry-After")
	}
}

// disagree records two final statements of the same response that contradict each other.
func (r *recorder) disagree(a, b statement) {
	if a.present && b.present && (a.class != b.class || a.reason != b.reason) {
		r.violate("%s says %s/%s but %s says %s/%s", a.source, a.class, a.reason, b.source, b.class, b.reason)
	}
}

// statementFromHeader reads the outcome headers (or trailers) of h. Only the response header is
// required; a trailer is optional.
func statementFromHeader(h http.Header, source string, required bool, violate func(string, ...any)) statement {
	raw := h.Get(outcome.HeaderOutcome)
	if raw == "" {
		if required {
			violate("missing %s header", outcome.HeaderOutcome)
		}
		return statement{}
	}
	s := statement{present: true, source: source, class: outcome.Class(strings.TrimSpace(raw))}
	if v := h.Get(outcome.HeaderServedBy); v != "" {
		sb, err := outcome.ParseServedBy(v)
		if err != nil {
			violate("%s: %v", source, err)
		}
		s.servedBy = sb
	}
	s.check(h.Get(outcome.HeaderReason), violate)
	return s
}

// statementFromBody reads an aruntime_outcome object of a body or stream event.
func statementFromBody(o *openai.Outcome, source string, violate func(string, ...any)) statement {
	s := statement{present: true, source: source, class: o.Class, servedBy: o.ServedBy}
	s.check(string(o.Reason), violate)
	return s
}

// check judges one statement on its own: a known class, a known reason of that class, and a
// served-by on every served outcome.
func (s *statement) check(rawReason string, violate func(string, ...any)) {
	if _, err := outcome.ParseClass(string(s.class)); err != nil {
		violate("%s: unknown class %q", s.source, s.class)
	}
	s.reason = outcome.Reason(strings.TrimSpace(rawReason))
	switch r, err := outcome.ParseReason(rawReason); {
	case rawReason == "":
		violate("%s: class %q without a reason", s.source, s.class)
	case err != nil:
		violate("%s: unknown reason %q", s.source, rawReason)
	case s.class.Valid() && r.Class() != s.class:
		violate("%s: reason %q belongs to class %q, not %q", s.source, r, r.Class(), s.class)
	}
	if s.class.Served() && s.servedBy.IsZero() {
		violate("%s: served class %q without served-by", s.source, s.class)
	}
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > math.MaxInt64/int64(time.Second) {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
