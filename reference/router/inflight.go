package router

import (
	"net/http"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/aruntime/arcert/api/outcome"
)

// inflight bounds the completions the router works on at once (router.max_inflight), over both
// doors. Past the bound a request is shed before anything costly is done for it: no body read or
// decoded, no credential checked, no span, no worker asked. An overloaded router that decoded
// everything and shed at a full queue spent its cores on work it then refused, and let every
// request wait behind the backlog; this answers the excess in microseconds.
type inflight struct {
	n   atomic.Int64
	max int64
}

// enter takes a place, or reports false (taking none) when all are taken.
func (f *inflight) enter() bool {
	if f.n.Add(1) > f.max {
		f.n.Add(-1)
		return false
	}
	return true
}

func (f *inflight) leave() { f.n.Add(-1) }

// maxInflight is router.max_inflight, or its default for a configuration built without defaults.
func (r *Router) maxInflight() int64 {
	if n := r.cfg.Router.MaxInflight; n > 0 {
		return int64(n)
	}
	return int64(r.cfg.DefaultMaxInflight())
}

// overloaded is the ending of a request shed at the in-flight bound.
func (r *Router) overloaded() ending {
	e := refused(outcome.ReasonCapacity, "the router is at its bound of requests in flight; retry after the advertised delay")
	e.retryAfter = r.cfg.Router.RetryAfter
	return e
}

// bounded wraps a completion handler with the in-flight bound: past it the answer is the
// contract's 503 shed/capacity with Retry-After, written by writeRefusal as every refusal is.
func (r *Router) bounded(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if !r.inflight.enter() {
			started := time.Now()
			end := r.overloaded()
			writeRefusal(w, end, "")
			r.metrics.observe("", "", end, time.Since(started), nil)
			return
		}
		defer r.inflight.leave()
		next(w, req)
	}
}

// StreamBound is the in-flight bound of the gRPC door, as the first stream interceptor of the
// router's gRPC server: past the bound an Inference call ends with the contract's outcome
// trailers (shed/capacity) and its reason's status before its request message is read. Other
// services' calls (health, reflection) pass.
func (r *Router) StreamBound(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if _, ok := srv.(*inferenceServer); !ok {
		return handler(srv, ss)
	}
	if !r.inflight.enter() {
		started := time.Now()
		end := r.overloaded()
		id := newID("req-")
		ss.SetTrailer(trailer(id, end))
		r.metrics.observe("", "", end, time.Since(started), nil)
		return grpcStatus(end, r.defects.GRPCShedWithoutRetryInfo)
	}
	defer r.inflight.leave()
	return handler(srv, ss)
}
