package worker

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/aruntime/arcert/reference/worker/device"
)

// Health response headers in which the worker presents its device's attestation, or says why it
// has none. They are headers rather than fields of HealthResponse so that a router that knows
// nothing of attestation reads the same message as before.
const (
	MetadataAttestation      = "arcert-attestation"
	MetadataAttestationError = "arcert-attestation-error"
)

// presentAttestation sets the Health call's attestation header: a fresh signed report from a
// device that can attest, else the reason it cannot. The router verifies it on every poll.
func (s *Server) presentAttestation(ctx context.Context) {
	md := metadata.MD{}
	if r := s.replayed.Load(); r != nil {
		md.Set(MetadataAttestation, *r)
		_ = grpc.SetHeader(ctx, md)
		return
	}
	if a, ok := s.dev.(device.Attester); ok {
		if signed, err := a.Attest(s.id, s.runtime.Version); err == nil {
			md.Set(MetadataAttestation, signed.Encode())
		} else {
			md.Set(MetadataAttestationError, err.Error())
		}
	} else {
		md.Set(MetadataAttestationError, fmt.Sprintf("device of worker %s cannot attest", s.id))
	}
	_ = grpc.SetHeader(ctx, md) // fails only outside a gRPC call, as in direct unit-test calls
}

// attestFaulter is a device whose attestation can be made to fail on purpose (the simulated one).
type attestFaulter interface {
	AttestFault(kind, worker, runtimeVersion string) error
	ClearAttest()
}

// attestFault shows an attestation fault on the device, or clears any with kind "".
func (s *Server) attestFault(kind string) error {
	f, ok := s.dev.(attestFaulter)
	switch {
	case !ok && kind == "":
		return nil
	case !ok:
		return fmt.Errorf("its device takes no attestation faults")
	case kind == "":
		f.ClearAttest()
		return nil
	}
	return f.AttestFault(kind, s.id, s.runtime.Version)
}

// attestReplayed is the device event that makes the worker present another worker's attestation
// text, carried in the metadataReplayAttestation header of the DeviceEvent call.
const (
	attestReplayed            = "attestation_replayed"
	metadataReplayAttestation = "arcert-replay-attestation" // reference/routing spells the same string
)

// replayAttestation makes the worker present the attestation text the event carries, whatever its
// device: a worker that does not attest claiming an attested worker's report.
func (s *Server) replayAttestation(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get(metadataReplayAttestation)
	if len(v) != 1 || v[0] == "" {
		return fmt.Errorf("attestation_replayed needs the attestation text to present (the event's attestation field)")
	}
	s.replayed.Store(&v[0])
	return nil
}
