package cache

import (
	"context"

	"github.com/aruntime/arcert/reference/workload"
)

// digestToken hashes the credential the tier is started with.
func digestToken(token string) [32]byte { return workload.Digest(token) }

// authorize admits a call only if it carries the workload credential: the tier trusts the tenant
// in a request only because of this check.
func (s *Server) authorize(ctx context.Context) error {
	return workload.Check(ctx, s.tokenDigest, "cache")
}

// withToken attaches the credential to an outgoing call.
func withToken(ctx context.Context, token string) context.Context {
	return workload.Outgoing(ctx, token)
}
