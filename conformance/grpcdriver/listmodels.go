package grpcdriver

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// UnaryResult is what the driver recorded of one unary call: its code and the outcome its
// trailers stated. A unary call serves no inference, so no served-by or usage is asked of it.
type UnaryResult struct {
	Result
	// Models is the listing a served ListModels returned.
	Models []string
}

// ListModels makes one unary ListModels call as key and records its trailers. The error is non-nil
// only when no status arrived at all.
func (c *Client) ListModels(ctx context.Context, key string) (UnaryResult, error) {
	r := c.pick()
	res := UnaryResult{Result: Result{Start: time.Now(), Endpoint: r.addr}}
	var tr metadata.MD
	out, err := r.client.ListModels(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key), &arcertv1.ListModelsRequest{}, grpc.Trailer(&tr))
	res.Latency = time.Since(res.Start)
	res.Code = status.Code(err)
	if err != nil && tr.Len() == 0 {
		if _, isStatus := status.FromError(err); !isStatus {
			return res, fmt.Errorf("%w: %s: %w", ErrTransport, res.Endpoint, err)
		}
	}
	res.Models = out.GetModels()
	res.readUnary(tr)
	return res, nil
}

// readUnary checks the trailers of a unary call: one request id, a class, a reason of that class,
// and a status OK exactly when the class is served.
func (r *Result) readUnary(tr metadata.MD) {
	c := r.readOutcome(tr)
	switch {
	case c.Served() && r.Code != codes.OK:
		r.violate("served outcome %q with status %s", c, r.Code)
	case c.Valid() && !c.Served() && r.Code == codes.OK:
		r.violate("outcome %q with status OK", c)
	}
}
