package routing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestWhyNamesNoAddress: each cause a worker leaves rotation for has its own few words, with the
// worker's own reason kept and the address the error names left out.
func TestWhyNamesNoAddress(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("%w: wa at 10.0.0.7:9000 answers as %q", errAnotherWorker, "wb"), "its address answers as another worker"},
		{fmt.Errorf("%w: device fault: xid 79", errReportedUnhealthy), "it reports itself unhealthy: device fault: xid 79"},
		{fmt.Errorf("wa at 10.0.0.7:9000: %w", ErrUnreachable), "it stopped answering its health checks"},
		{status.Error(codes.DeadlineExceeded, "dial tcp 10.0.0.7:9000"), "it did not answer in time"},
		{fmt.Errorf("poll: %w", context.DeadlineExceeded), "it did not answer in time"},
		{status.Error(codes.Unavailable, "dial tcp 10.0.0.7:9000: connect: connection refused"), "it cannot be reached"},
		{errors.New("stream of 10.0.0.7:9000 broke"), "a call to it failed"},
	} {
		got := Why(tc.err)
		if got != tc.want || strings.Contains(got, "10.0.0.7") {
			t.Errorf("Why(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
