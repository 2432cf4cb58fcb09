package cache

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// bearerPrefix starts the authorization metadata value, as in HTTP and as
// the worker service expects it.
const bearerPrefix = "Bearer "

// digestToken hashes a credential so comparisons take the same time whatever
// the length of the presented token.
func digestToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// authorize admits a call only if it carries the worker credential. The tier
// trusts the tenant in a request only because of this check: only routers
// and workers hold the credential, and they pass the authenticated tenant.
func (s *Server) authorize(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		token, ok := strings.CutPrefix(v, bearerPrefix)
		if !ok {
			continue
		}
		got := digestToken(token)
		if subtle.ConstantTimeCompare(got[:], s.tokenDigest[:]) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "cache credential missing or wrong")
}

// withToken attaches the credential to an outgoing call.
func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", bearerPrefix+token)
}
