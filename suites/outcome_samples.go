package suites

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
)

// outcomeTolerance is how long after its deadline an outcome may still arrive: the time a runtime
// needs to notice the deadline, write the answer and have it cross loopback, with room for a
// loaded two-core machine. It is the tolerance the fault ledger allows too (chaos/ledger), so a
// deadline means the same in every run the harness judges.
const outcomeTolerance = time.Second

// outcomeHangGrace is how long past deadline plus tolerance the harness still waits for an
// answer before it abandons the call and records it as never answered in time: long enough to
// tell a late answer from none, short enough that a runtime that queues past its deadline cannot
// stretch the run to its own pace.
const outcomeHangGrace = 2 * time.Second

// Transport paths an outcome sample travelled.
const (
	pathHTTP       = "http"
	pathHTTPStream = "http-stream"
	pathGRPC       = "grpc"
)

// outcomeSample is one answer an outcome spec judged, from either transport, in the terms the
// contract is written in: where it went, what it said, how it said it and how long it took.
type outcomeSample struct {
	transport string // pathHTTP, pathHTTPStream or pathGRPC
	what      string // what was asked, for messages: "unknown model on /v1/completions"
	tenant    string
	status    int        // HTTP status; 0 on gRPC
	code      codes.Code // gRPC status code
	// started reports a stream whose headers went out served: its status is then 200 whatever
	// its end, which the final event states.
	started   bool
	class     outcome.Class
	reason    outcome.Reason
	servedBy  outcome.ServedBy
	requestID string
	tokens    int
	latency   time.Duration
	// deadline is the deadline of the class the call ran in; zero where none applies (a
	// discovery read).
	deadline   time.Duration
	violations []string
	// abandoned reports a call the harness gave up on past deadline plus tolerance plus grace;
	// failed one it could not exchange at all.
	abandoned bool
	failed    error
	// mustReason is the one reason a bad input may be refused with, where only one fits (a
	// body over the size limit is body_too_large); empty where any rejection will do.
	mustReason outcome.Reason
}

// answered reports whether the sample carries a statement of the runtime to judge.
func (s outcomeSample) answered() bool { return !s.abandoned && s.failed == nil }

func (s outcomeSample) String() string {
	switch {
	case s.abandoned:
		return fmt.Sprintf("%s over %s: no answer after %s", s.what, s.transport, s.latency.Round(time.Millisecond))
	case s.failed != nil:
		return fmt.Sprintf("%s over %s: %v", s.what, s.transport, s.failed)
	}
	st := fmt.Sprintf("status %d", s.status)
	if s.transport == pathGRPC {
		st = "code " + s.code.String()
	}
	out := fmt.Sprintf("%s over %s: %s, %s/%s after %s, request %s", s.what, s.transport, st, s.class, s.reason, s.latency.Round(time.Millisecond), s.requestID)
	if len(s.violations) > 0 {
		out += "; contract broken: " + strings.Join(s.violations, "; ")
	}
	return out
}

// httpSample turns a driver result into a sample.
func httpSample(what, tenant string, stream bool, res driver.Result, err error) outcomeSample {
	s := outcomeSample{transport: pathHTTP, what: what, tenant: tenant, status: res.Status, class: res.Outcome, reason: res.Reason,
		servedBy: res.ServedBy, requestID: res.RequestID, tokens: res.Tokens, latency: res.Latency, violations: res.ContractViolations,
		started: stream && res.HeaderOutcome.Served()}
	if stream {
		s.transport = pathHTTPStream
	}
	if err != nil {
		s.failed = err
	}
	return s
}

// grpcSample turns a gRPC driver result into a sample.
func grpcSample(what, tenant string, res grpcdriver.Result, err error) outcomeSample {
	s := outcomeSample{transport: pathGRPC, what: what, tenant: tenant, code: res.Code, class: res.Outcome, reason: res.Reason,
		servedBy: res.ServedBy, requestID: res.RequestID, tokens: res.Tokens, latency: res.Latency, violations: res.ContractViolations}
	if err != nil {
		s.failed = err
	}
	return s
}

// abandon marks a sample whose call ran out of the harness's patience (callCtx ended while the
// spec's own ctx had not): the runtime never answered in time.
func abandon(s outcomeSample, spec, callCtx context.Context, started time.Time) outcomeSample {
	if spec.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		s.abandoned, s.failed, s.latency = true, nil, time.Since(started)
	}
	return s
}

// contractStatus says whether the sample's HTTP status or gRPC code is the one the contract's
// table (api/outcome) gives its reason, and if not, why, in a sentence. A stream that started is
// 200 (OK on gRPC is only for served calls, which the table already says).
func contractStatus(s outcomeSample) (ok bool, why string) {
	info, known := s.reason.Info()
	if !known {
		return false, fmt.Sprintf("%s: reason %q is not in the contract", s.what, s.reason)
	}
	if s.transport == pathGRPC {
		if s.code != info.GRPCCode {
			return false, fmt.Sprintf("%s over gRPC ended %s/%s with code %s; the contract gives %s", s.what, s.class, s.reason, s.code, info.GRPCCode)
		}
		return true, ""
	}
	want := info.HTTPStatus
	if s.started {
		want = http.StatusOK
	}
	if s.status != want {
		return false, fmt.Sprintf("%s over %s ended %s/%s with status %d; the contract gives %d", s.what, s.transport, s.class, s.reason, s.status, want)
	}
	return true, ""
}

// sampleLateness is how far past deadline plus outcomeTolerance the sample's answer arrived (or was
// abandoned); zero or less is in time.
func sampleLateness(s outcomeSample, deadline time.Duration) time.Duration {
	return s.latency - deadline - outcomeTolerance
}

// late reports whether the sample came after its own deadline plus outcomeTolerance, or never.
func (s outcomeSample) late() bool {
	return s.deadline > 0 && (s.abandoned || sampleLateness(s, s.deadline) > 0)
}

// trouble says in a sentence what is wrong with a sample whatever the rule: no answer, an answer
// that breaks the contract, or one that came too late; "" when none of these.
func (s outcomeSample) trouble() string {
	switch {
	case !s.answered():
		return s.String()
	case len(s.violations) > 0 || !s.class.Valid():
		return s.String()
	case s.late():
		return fmt.Sprintf("%s, past its %s deadline plus %s tolerance", s, s.deadline, outcomeTolerance)
	}
	return ""
}

// patience is how long the harness waits for an answer due within deadline.
func patience(deadline time.Duration) time.Duration {
	return deadline + outcomeTolerance + outcomeHangGrace
}
