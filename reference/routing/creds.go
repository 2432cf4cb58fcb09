package routing

import (
	"context"

	"google.golang.org/grpc/credentials"
)

// bearer sends the worker credential on every call. Workers sit on a
// private network in the reference deployment, so it does not require
// transport security; a deployment that needs it adds TLS around it.
type bearer struct{ token string }

var _ credentials.PerRPCCredentials = bearer{}

// GetRequestMetadata returns a fresh map each call, as gRPC may keep it.
func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false: see the type's comment.
func (bearer) RequireTransportSecurity() bool { return false }
