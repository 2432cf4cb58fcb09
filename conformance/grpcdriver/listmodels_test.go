package grpcdriver

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// unaryFake answers ListModels with the trailer and error the test chooses.
type unaryFake struct {
	arcertv1.UnimplementedInferenceServer
	trailer metadata.MD
	err     error
}

func (f *unaryFake) ListModels(ctx context.Context, _ *arcertv1.ListModelsRequest) (*arcertv1.ListModelsResponse, error) {
	_ = grpc.SetTrailer(ctx, f.trailer)
	if f.err != nil {
		return nil, f.err
	}
	return &arcertv1.ListModelsResponse{Models: []string{"m"}}, nil
}

func listModels(t *testing.T, f *unaryFake) UnaryResult {
	t.Helper()
	c, err := New(listenInference(t, f))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.ListModels(ctx, "key")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestListModels(t *testing.T) {
	tests := []struct {
		name       string
		f          *unaryFake
		violations int
		code       codes.Code
	}{
		{"served", &unaryFake{trailer: metadata.Pairs("arcert-outcome", "completed", "arcert-outcome-reason", "none", "x-request-id", "r1")}, 0, codes.OK},
		{"refused", &unaryFake{trailer: metadata.Pairs("arcert-outcome", "rejected", "arcert-outcome-reason", "unauthenticated", "x-request-id", "r2"),
			err: status.Error(codes.Unauthenticated, "no")}, 0, codes.Unauthenticated},
		{"refused without a reason", &unaryFake{trailer: metadata.Pairs("arcert-outcome", "rejected", "x-request-id", "r3"),
			err: status.Error(codes.Unauthenticated, "no")}, 2, codes.Unauthenticated},
		{"refused with OK", &unaryFake{trailer: metadata.Pairs("arcert-outcome", "rejected", "arcert-outcome-reason", "unauthenticated", "x-request-id", "r4")}, 1, codes.OK},
		{"no trailers", &unaryFake{err: status.Error(codes.Internal, "boom")}, 5, codes.Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := listModels(t, tc.f)
			if len(res.ContractViolations) != tc.violations || res.Code != tc.code {
				t.Fatalf("recorded code %s and violations %q; want %s and %d", res.Code, res.ContractViolations, tc.code, tc.violations)
			}
			if tc.code == codes.OK && tc.violations == 0 && (len(res.Models) != 1 || res.Outcome != "completed") {
				t.Fatalf("served call recorded as %+v", res)
			}
		})
	}
}
