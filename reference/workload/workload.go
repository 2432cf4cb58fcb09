// Package workload checks the workload credential that runtime parts present to one another
// (router to worker, worker to cache tier). A part trusts the tenant named in a call only because
// of this check: only routers and workers hold the credential, and they pass the tenant the
// router authenticated. It is never a tenant's credential.
package workload

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// bearerPrefix starts the authorization metadata value, as in HTTP.
const bearerPrefix = "Bearer "

// Digest hashes a credential, so comparisons take the same time whatever the length of the
// presented token.
func Digest(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// Check admits a call only if its metadata carries the credential whose Digest is want; the
// error is an Unauthenticated status naming the part.
func Check(ctx context.Context, want [32]byte, part string) error {
	// Only the one key is copied out of the call's metadata, not all of it.
	return CheckValues(metadata.ValueFromIncomingContext(ctx, "authorization"), want, part)
}

// CheckValues is Check of a call's authorization values, for a caller that has copied the call's
// metadata already (metadata.MD.Get("authorization")).
func CheckValues(authorization []string, want [32]byte, part string) error {
	for _, v := range authorization {
		token, ok := strings.CutPrefix(v, bearerPrefix)
		if !ok {
			continue
		}
		got := Digest(token)
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, part+" credential missing or wrong")
}

// Outgoing attaches the credential to an outgoing call.
func Outgoing(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", bearerPrefix+token)
}
