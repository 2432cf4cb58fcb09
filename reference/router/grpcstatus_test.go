package router

import (
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/api/outcome"
)

// TestGRPCStatusCarriesRetryInfoWhereHTTPSendsRetryAfter: a shed (with or without a delay of its
// own) and any refusal with a delay carry RetryInfo rounded as Retry-After is; a refusal without
// one carries none, and the defect leaves it out.
func TestGRPCStatusCarriesRetryInfoWhereHTTPSendsRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		end     ending
		without bool
		want    time.Duration // 0: no RetryInfo
	}{
		{"shed with a delay", ending{class: outcome.Shed, reason: outcome.ReasonCapacity, retryAfter: 1500 * time.Millisecond}, false, 2 * time.Second},
		{"shed without a delay of its own", ending{class: outcome.Shed, reason: outcome.ReasonCapacity}, false, time.Second},
		{"a quota refusal with a delay", ending{class: outcome.Rejected, reason: outcome.ReasonQuotaExceeded, retryAfter: 3 * time.Second}, false, 3 * time.Second},
		{"an invalid request", ending{class: outcome.Rejected, reason: outcome.ReasonInvalidRequest}, false, 0},
		{"shed, by the defect", ending{class: outcome.Shed, reason: outcome.ReasonCapacity, retryAfter: time.Second}, true, 0},
		{"a quota refusal, by the defect: it only drops the sheds'", ending{class: outcome.Rejected, reason: outcome.ReasonQuotaExceeded, retryAfter: 3 * time.Second}, true, 3 * time.Second},
	} {
		err := grpcStatus(tc.end, tc.without)
		st := status.Convert(err)
		info, _ := tc.end.reason.Info()
		if st.Code() != info.GRPCCode || st.Code() == codes.OK {
			t.Errorf("%s: code %s, want %s", tc.name, st.Code(), info.GRPCCode)
		}
		var got time.Duration
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				got = ri.GetRetryDelay().AsDuration()
			}
		}
		if got != tc.want {
			t.Errorf("%s: RetryInfo %s, want %s", tc.name, got, tc.want)
		}
	}
}
