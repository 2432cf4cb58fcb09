package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/valyala/fasthttp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestClassify: a refusal is shed, a request the load generator gave up on or could not send is
// unanswered, so a collapsed path never passes for one that sheds.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want outcome
	}{
		{status.Error(codes.ResourceExhausted, "the tenant already has its declared number of requests in flight"), shed},
		{status.Error(codes.Unavailable, "no healthy place serves model bench-model"), shed},
		{status.Error(codes.DeadlineExceeded, "context deadline exceeded"), connError},
		{status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing\""), connError},
		{context.DeadlineExceeded, connError},
		{fmt.Errorf("post: %w", syscall.ECONNREFUSED), connError},
		{fasthttp.ErrTimeout, connError},
		{fasthttp.ErrNoFreeConns, connError},
		{fasthttp.ErrConnectionClosed, connError},
		{fmt.Errorf("read: %w", io.EOF), connError},
		{errors.New("error when reading response headers: cannot find http request method"), failed},
		{status.Error(codes.Internal, "boom"), failed},
	} {
		got := classifyFastHTTPErr(c.err)
		if got != c.want {
			t.Errorf("%v: outcome %d, want %d", c.err, got, c.want)
		}
	}
}
