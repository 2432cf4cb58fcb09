package worker

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

func TestEveryRPCNeedsTheWorkerToken(t *testing.T) {
	w := serve(t, testOptions("w1"))
	creds := map[string]func(context.Context) context.Context{
		"missing":        func(ctx context.Context) context.Context { return ctx },
		"wrong":          func(ctx context.Context) context.Context { return authed(ctx, "not-the-secret") },
		"prefix of it":   func(ctx context.Context) context.Context { return authed(ctx, testToken[:4]) },
		"empty bearer":   func(ctx context.Context) context.Context { return authed(ctx, "") },
		"not bearer":     func(ctx context.Context) context.Context { return withAuth(ctx, "Basic "+testToken) },
		"bare token":     func(ctx context.Context) context.Context { return withAuth(ctx, testToken) },
		"lowercase type": func(ctx context.Context) context.Context { return withAuth(ctx, "bearer "+testToken) },
	}
	for name, cred := range creds {
		t.Run(name, func(t *testing.T) {
			ctx := cred(t.Context())
			_, err := w.client.Health(ctx, &arcertv1.HealthRequest{})
			assertCode(t, "Health", err, codes.Unauthenticated)
			_, err = w.client.Versions(ctx, &arcertv1.VersionsRequest{})
			assertCode(t, "Versions", err, codes.Unauthenticated)
			stream, err := w.client.Generate(ctx, request("acme", "hi", 1))
			if err == nil {
				_, err = stream.Recv()
			}
			assertCode(t, "Generate", err, codes.Unauthenticated)
		})
	}
	// The right token, among other values, is accepted.
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Basic x", "authorization", "Bearer "+testToken)
	if _, err := w.client.Health(ctx, &arcertv1.HealthRequest{}); err != nil {
		t.Errorf("right token: %v", err)
	}
}

func withAuth(ctx context.Context, value string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", value)
}

func assertCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: code %v (%v), want %v", what, got, err, want)
	}
}
