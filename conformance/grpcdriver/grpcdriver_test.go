package grpcdriver

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// fake is a runtime whose trailers the test chooses, to see each violation recorded.
type fake struct {
	arcertv1.UnimplementedInferenceServer
	trailer metadata.MD
	err     error
	tokens  int
}

func (f *fake) Complete(_ *arcertv1.CompleteRequest, s grpc.ServerStreamingServer[arcertv1.CompleteResponse]) error {
	for range f.tokens {
		if err := s.Send(&arcertv1.CompleteResponse{Text: " tok"}); err != nil {
			return err
		}
	}
	if f.err == nil {
		if err := s.Send(&arcertv1.CompleteResponse{Usage: &arcertv1.Usage{CompletionTokens: int64(f.tokens)}}); err != nil {
			return err
		}
	}
	s.SetTrailer(f.trailer)
	return f.err
}

func serve(t *testing.T, f *fake) *Client {
	t.Helper()
	c, err := New(listenInference(t, f))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func call(t *testing.T, c *Client) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Complete(ctx, "key", &arcertv1.CompleteRequest{Model: "m", Prompt: "p", MaxTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestComplete(t *testing.T) {
	good := metadata.Pairs("arcert-outcome", "completed", "arcert-outcome-reason", "none", "x-request-id", "r1", "arcert-served-by", "region=eu; provider=p")
	res := call(t, serve(t, &fake{trailer: good, tokens: 3}))
	if len(res.ContractViolations) != 0 || res.Outcome != "completed" || res.Tokens != 3 || len(res.ITL) != 2 || res.TTFT <= 0 || res.ServedBy.Region != "eu" {
		t.Fatalf("good call recorded as %+v", res)
	}
}

func TestViolations(t *testing.T) {
	tests := []struct {
		name string
		f    *fake
		want string
	}{
		{"no trailer", &fake{tokens: 1}, "arcert-outcome has 0 values"},
		{"reason of another class", &fake{tokens: 1, trailer: metadata.Pairs("arcert-outcome", "completed", "arcert-outcome-reason", "queue_full", "x-request-id", "r", "arcert-served-by", "region=a")}, "belongs to class"},
		{"served without served-by", &fake{tokens: 1, trailer: metadata.Pairs("arcert-outcome", "completed", "arcert-outcome-reason", "none", "x-request-id", "r")}, "without arcert-served-by"},
		{"refusal with OK", &fake{trailer: metadata.Pairs("arcert-outcome", "rejected", "arcert-outcome-reason", "invalid_request", "x-request-id", "r")}, "with status OK"},
		{"served with an error status", &fake{err: status.Error(codes.Internal, "x"), trailer: metadata.Pairs("arcert-outcome", "completed", "arcert-outcome-reason", "none", "x-request-id", "r", "arcert-served-by", "region=a")}, "with status Internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := call(t, serve(t, tc.f))
			if !strings.Contains(strings.Join(res.ContractViolations, "; "), tc.want) {
				t.Fatalf("violations %v, want one containing %q", res.ContractViolations, tc.want)
			}
		})
	}
}

// TestRetryInfoIsRead: a shed call's google.rpc.RetryInfo becomes the result's RetryAfter, and a
// shed without one leaves it 0, which is what the suites judge.
func TestRetryInfoIsRead(t *testing.T) {
	shed := metadata.Pairs("arcert-outcome", "shed", "arcert-outcome-reason", "capacity", "x-request-id", "r1")
	with, err := status.New(codes.Unavailable, "at capacity").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(2 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, serve(t, &fake{trailer: shed, err: with.Err()})); res.RetryAfter != 2*time.Second || res.Outcome != "shed" {
		t.Errorf("shed with RetryInfo 2s: RetryAfter %s, outcome %s", res.RetryAfter, res.Outcome)
	}
	if res := call(t, serve(t, &fake{trailer: shed, err: status.Error(codes.Unavailable, "at capacity")})); res.RetryAfter != 0 {
		t.Errorf("shed without RetryInfo: RetryAfter %s, want 0", res.RetryAfter)
	}
}
