package routing

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Why says in a few words why err took a worker out of rotation, or failed a call to it, naming
// no address: what the versions listing shows a tenant, for whom the runtime's topology is not
// public. The error itself, with addresses and the transport's words, is for operators.
func Why(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errAnotherWorker):
		return "its address answers as another worker"
	case errors.Is(err, errReportedUnhealthy):
		// The worker's own reason (a device fault, stopping, its engine not running) names no address.
		return "it reports itself unhealthy" + strings.TrimPrefix(err.Error(), errReportedUnhealthy.Error())
	case errors.Is(err, ErrUnreachable):
		return "it stopped answering its health checks"
	case errors.Is(err, context.DeadlineExceeded), status.Code(err) == codes.DeadlineExceeded:
		return "it did not answer in time"
	case status.Code(err) == codes.Unavailable:
		return "it cannot be reached"
	}
	return "a call to it failed"
}
