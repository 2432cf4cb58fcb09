package outcome

import (
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
)

// Reason says why a request ended in its class. The set is closed: a runtime that invents a
// reason fails the contract, and every reason belongs to exactly one class.
type Reason string

// The closed reason enum. README.md lists them with their class and status; a test keeps the two
// in step.
const (
	ReasonNone Reason = "none"

	// Served somewhere else or with a reduction.
	ReasonRegionFailover   Reason = "region_failover"
	ReasonPoolFailover     Reason = "pool_failover"
	ReasonProviderFallback Reason = "provider_fallback"
	ReasonFallbackModel    Reason = "fallback_model"
	ReasonCacheBypass      Reason = "cache_bypass"
	ReasonPartial          Reason = "partial"

	// Refused for who the caller is or what it sent.
	ReasonUnauthenticated       Reason = "unauthenticated"
	ReasonForbidden             Reason = "forbidden"
	ReasonInvalidRequest        Reason = "invalid_request"
	ReasonUnknownModel          Reason = "unknown_model"
	ReasonContextLengthExceeded Reason = "context_length_exceeded"
	ReasonBodyTooLarge          Reason = "body_too_large"
	// ReasonUnsupportedMediaType is a body the runtime cannot read as sent: compressed
	// (Content-Encoding, or gzip's magic bytes) rather than plain JSON.
	ReasonUnsupportedMediaType   Reason = "unsupported_media_type"
	ReasonQuotaExceeded          Reason = "quota_exceeded"
	ReasonConcurrencyExceeded    Reason = "concurrency_exceeded"
	ReasonPolicyForbidsRegion    Reason = "policy_forbids_region"
	ReasonPolicyForbidsFallback  Reason = "policy_forbids_fallback"
	ReasonArtifactInvalid        Reason = "artifact_invalid"
	ReasonTrafficClassNotAllowed Reason = "traffic_class_not_allowed"
	ReasonNotFound               Reason = "not_found"
	ReasonMethodNotAllowed       Reason = "method_not_allowed"
	// ReasonToolNotAllowed is a request naming a runtime-side tool its tenant may not use.
	ReasonToolNotAllowed Reason = "tool_not_allowed"

	// Refused for load, before any work.
	ReasonQueueFull      Reason = "queue_full"
	ReasonCapacity       Reason = "capacity"
	ReasonDraining       Reason = "draining"
	ReasonDevicePressure Reason = "device_pressure"

	// Out of time.
	ReasonDeadline Reason = "deadline"

	// Broke.
	ReasonDependencyUnavailable Reason = "dependency_unavailable"
	ReasonNoHealthyWorker       Reason = "no_healthy_worker"
	ReasonWorkerLost            Reason = "worker_lost"
	ReasonInternal              Reason = "internal"
	// ReasonToolUnavailable is a request that needs a runtime-side tool while the tool adapter or
	// the tool server behind it cannot be reached; it is never answered by a broader route.
	ReasonToolUnavailable Reason = "tool_unavailable"
	// ReasonClientCancelled is recorded, never sent: the caller went away before the end, so the
	// evidence record still ends the request with exactly one outcome.
	ReasonClientCancelled Reason = "client_cancelled"
	// ReasonClientTooSlow is recorded, never sent (nobody is reading): the caller read its stream
	// so slowly that a write waited longer than its class's output write timeout, and the
	// runtime ended the stream to free the slot it held.
	ReasonClientTooSlow Reason = "client_too_slow"
)

// ReasonInfo is the contract entry of one reason: its class, and the one HTTP status and gRPC code
// a runtime answers it with (normative: OUT-6 checks every reason it can provoke against them).
type ReasonInfo struct {
	Class      Class
	HTTPStatus int
	GRPCCode   codes.Code
	Doc        string
}

var reasons = map[Reason]ReasonInfo{
	ReasonNone: {Completed, http.StatusOK, codes.OK, "served as asked, where asked"},

	ReasonRegionFailover:   {Rerouted, http.StatusOK, codes.OK, "served by another region than the primary"},
	ReasonPoolFailover:     {Rerouted, http.StatusOK, codes.OK, "served by another pool than the primary"},
	ReasonProviderFallback: {Rerouted, http.StatusOK, codes.OK, "served by the hosted provider the tenant's policy allows"},
	ReasonFallbackModel:    {Degraded, http.StatusOK, codes.OK, "served by the declared fallback model"},
	ReasonCacheBypass:      {Degraded, http.StatusOK, codes.OK, "served without the prefix cache"},
	ReasonPartial:          {Degraded, http.StatusOK, codes.OK, "served in part, the output is shorter than asked"},

	ReasonUnauthenticated:        {Rejected, http.StatusUnauthorized, codes.Unauthenticated, "missing or unknown credential"},
	ReasonForbidden:              {Rejected, http.StatusForbidden, codes.PermissionDenied, "the credential may not call this endpoint"},
	ReasonInvalidRequest:         {Rejected, http.StatusBadRequest, codes.InvalidArgument, "malformed or out-of-range request"},
	ReasonUnknownModel:           {Rejected, http.StatusBadRequest, codes.InvalidArgument, "the model is not served here"},
	ReasonContextLengthExceeded:  {Rejected, http.StatusBadRequest, codes.InvalidArgument, "prompt plus max_tokens exceed the model's context"},
	ReasonBodyTooLarge:           {Rejected, http.StatusRequestEntityTooLarge, codes.InvalidArgument, "the body is over the size limit"},
	ReasonUnsupportedMediaType:   {Rejected, http.StatusUnsupportedMediaType, codes.InvalidArgument, "the body is compressed or otherwise encoded; send it as plain JSON"},
	ReasonQuotaExceeded:          {Rejected, http.StatusTooManyRequests, codes.ResourceExhausted, "the tenant's request or token quota is spent"},
	ReasonConcurrencyExceeded:    {Rejected, http.StatusTooManyRequests, codes.ResourceExhausted, "the tenant has its declared number of requests in flight"},
	ReasonPolicyForbidsRegion:    {Rejected, http.StatusForbidden, codes.PermissionDenied, "the tenant's data policy forbids every region that could serve"},
	ReasonPolicyForbidsFallback:  {Rejected, http.StatusForbidden, codes.PermissionDenied, "the only remaining place is one the tenant's policy forbids"},
	ReasonArtifactInvalid:        {Rejected, http.StatusUnprocessableEntity, codes.FailedPrecondition, "the artifact failed verification"},
	ReasonTrafficClassNotAllowed: {Rejected, http.StatusForbidden, codes.PermissionDenied, "the credential may not use that traffic class"},
	ReasonNotFound:               {Rejected, http.StatusNotFound, codes.NotFound, "no such endpoint, or nothing the caller may see by that id (a batch, a control document, a worker)"},
	ReasonMethodNotAllowed:       {Rejected, http.StatusMethodNotAllowed, codes.Unimplemented, "the endpoint does not answer that method; Allow lists those it does"},
	ReasonToolNotAllowed:         {Rejected, http.StatusForbidden, codes.PermissionDenied, "the request names a runtime-side tool the tenant may not use"},

	ReasonQueueFull:      {Shed, http.StatusTooManyRequests, codes.Unavailable, "the traffic class's bounded queue is full"},
	ReasonCapacity:       {Shed, http.StatusServiceUnavailable, codes.Unavailable, "no worker capacity to admit the work"},
	ReasonDraining:       {Shed, http.StatusServiceUnavailable, codes.Unavailable, "the runtime is shutting down and takes no new work"},
	ReasonDevicePressure: {Shed, http.StatusServiceUnavailable, codes.Unavailable, "device memory is under the declared threshold"},

	ReasonDeadline: {TimedOut, http.StatusGatewayTimeout, codes.DeadlineExceeded, "the deadline passed in the queue or in execution"},

	ReasonDependencyUnavailable: {Failed, http.StatusBadGateway, codes.Unavailable, "a dependency the request needs is unreachable"},
	ReasonNoHealthyWorker:       {Failed, http.StatusServiceUnavailable, codes.Unavailable, "no healthy worker serves the model"},
	ReasonWorkerLost:            {Failed, http.StatusBadGateway, codes.Unavailable, "the worker went away while serving"},
	ReasonInternal:              {Failed, http.StatusInternalServerError, codes.Internal, "an internal error"},
	ReasonToolUnavailable:       {Failed, http.StatusBadGateway, codes.Unavailable, "a runtime-side tool the request needs is unreachable (tool adapter or tool server)"},
	ReasonClientCancelled:       {Failed, 499, codes.Canceled, "the caller went away before the response ended (evidence only)"},
	ReasonClientTooSlow:         {Failed, 499, codes.ResourceExhausted, "the caller did not read its stream within the class's output write timeout, so the stream was ended to free its slot (evidence only)"},
}

// Info returns the contract entry of r.
func (r Reason) Info() (ReasonInfo, bool) {
	i, ok := reasons[r]
	return i, ok
}

// Class returns the class r belongs to; an unknown reason belongs to Failed.
func (r Reason) Class() Class {
	if i, ok := reasons[r]; ok {
		return i.Class
	}
	return Failed
}

// ParseReason reads a reason from its wire spelling.
func ParseReason(s string) (Reason, error) {
	r := Reason(strings.TrimSpace(s))
	if _, ok := reasons[r]; !ok {
		return "", fmt.Errorf("outcome: unknown reason %q", s)
	}
	return r, nil
}
