// Package outcome is the outcome contract every runtime under test speaks: one machine-readable
// class per response, a reason from a closed enum, and where the work was served. Both the
// reference runtime and the harness import it, so the two can never disagree on a spelling.
package outcome

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Class is the one terminal outcome of a request. The class says what happened; the reason says
// why, and the reason alone fixes the HTTP status and the gRPC code (the table in reason.go,
// checked by OUT-6): engines disagree on 429 versus 503, so the contract settles it per reason
// rather than per class.
type Class string

// The outcome classes of DESIGN.md §1, in the order the contract lists them.
const (
	// Completed means served as asked, where asked.
	Completed Class = "completed"
	// Rerouted means served, but by another region, pool or provider than the primary.
	Rerouted Class = "rerouted"
	// Degraded means served with a declared reduction (fallback model, cache bypass, partial).
	Degraded Class = "degraded"
	// Rejected means refused by policy, quota, identity or invalid input: retrying unchanged will not help.
	Rejected Class = "rejected"
	// Shed means refused for load before any work was done; the response carries Retry-After.
	Shed Class = "shed"
	// TimedOut means the deadline passed, in the queue or in execution.
	TimedOut Class = "timed_out"
	// Failed means an internal or dependency failure.
	Failed Class = "failed"
)

// Classes lists every class in contract order.
var Classes = []Class{Completed, Rerouted, Degraded, Rejected, Shed, TimedOut, Failed}

// Served reports whether the class means the caller got an answer.
func (c Class) Served() bool { return c == Completed || c == Rerouted || c == Degraded }

// Valid reports whether c is one of the contract's classes.
func (c Class) Valid() bool {
	for _, k := range Classes {
		if c == k {
			return true
		}
	}
	return false
}

// ParseClass reads a class from its wire spelling.
func ParseClass(s string) (Class, error) {
	c := Class(strings.TrimSpace(s))
	if !c.Valid() {
		return "", fmt.Errorf("outcome: unknown class %q", s)
	}
	return c, nil
}

// Header and trailer names of the contract. gRPC metadata keys are the lower-case forms.
const (
	HeaderOutcome   = "ARuntime-Outcome"
	HeaderReason    = "ARuntime-Outcome-Reason"
	HeaderServedBy  = "ARuntime-Served-By"
	HeaderRequestID = "X-Request-Id"
	// HeaderTrafficClass lets a caller pick one of the traffic classes its credential allows.
	HeaderTrafficClass = "ARuntime-Traffic-Class"

	MetadataOutcome   = "arcert-outcome"
	MetadataReason    = "arcert-outcome-reason"
	MetadataServedBy  = "arcert-served-by"
	MetadataRequestID = "x-request-id"
)

// SortedReasons returns every reason of the closed enum in lexical order, for docs and checks.
func SortedReasons() []Reason {
	out := make([]Reason, 0, len(reasons))
	for r := range reasons {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// StatusFor is the HTTP status the contract gives a reason, which every runtime must answer with
// (OUT-6). Unknown reasons map to 500 so a programming error is loud rather than silently 200.
func StatusFor(r Reason) int {
	if d, ok := reasons[r]; ok {
		return d.HTTPStatus
	}
	return http.StatusInternalServerError
}

// ReasonTable renders the closed reason enum as a Markdown table in contract order of classes,
// the table README.md documents.
func ReasonTable() string {
	var b strings.Builder
	b.WriteString("| class | reason | HTTP | gRPC | meaning |\n|---|---|---|---|---|\n")
	for _, c := range Classes {
		for _, r := range SortedReasons() {
			if i := reasons[r]; i.Class == c {
				fmt.Fprintf(&b, "| `%s` | `%s` | %d | %s | %s |\n", c, r, i.HTTPStatus, i.GRPCCode, i.Doc)
			}
		}
	}
	return b.String()
}
