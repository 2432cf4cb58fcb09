package router

import (
	"google.golang.org/grpc"
)

// metadataArtifactDigest is the Generate response header in which a worker names the digest of
// the artifact it served the call with (reference/worker.MetadataArtifactDigest; the router does
// not import the worker).
const metadataArtifactDigest = "arcert-artifact-digest"

// servedArtifact is the digest the worker says it served stream with, or pinned when it said
// nothing. Evidence names the worker's word because only the worker knows what it has applied:
// after a rollout or a rollback the router's configuration still holds the pin it started with.
func (r *Router) servedArtifact(stream grpc.ClientStream, pinned string) string {
	if r.ops.StaleEvidencePin {
		return pinned
	}
	md, err := stream.Header()
	if err != nil {
		return pinned
	}
	if v := md.Get(metadataArtifactDigest); len(v) == 1 && v[0] != "" {
		return v[0]
	}
	return pinned
}

// OperationsDefects are deliberate bugs of the router for the harness's negative controls
// (reference/runtime.OperationsDefects sets them); the zero value is the conformant router.
type OperationsDefects struct {
	// StaleEvidencePin names the router's configured pin in evidence, not the artifact the
	// worker served with.
	StaleEvidencePin bool
	// PressureToProvider lets device pressure alone send a tenant to a hosted provider.
	PressureToProvider bool
	// NoDeviceFaultRetry ends a call a device fault cut as worker_lost even when it had sent
	// nothing yet, instead of moving it to another worker.
	NoDeviceFaultRetry bool
	// HedgeBeforePolicy runs a request its tenant's policy keeps out of every healthy place on a
	// forbidden region's worker anyway, throwing the answer away, before it refuses it.
	HedgeBeforePolicy bool
}
