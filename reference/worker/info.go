package worker

import (
	"context"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// Health reports whether the worker takes work and how loaded it is, so the
// router can route by health and load and size its admission to the
// capacity that is actually up. Load figures are as of the engine's last
// scheduling step.
func (s *Server) Health(ctx context.Context, _ *arcertv1.HealthRequest) (*arcertv1.HealthResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	s.presentAttestation(ctx)
	st := s.eng.Stats()
	fault, _ := s.inflight.faulted()
	resp := &arcertv1.HealthResponse{
		Device:       s.res.status(fault),
		Role:         s.role,
		Worker:       s.id,
		Waiting:      int64(st.Waiting),
		Running:      int64(st.Running),
		MaxBatch:     int64(s.maxBatch),
		KvFreeTokens: int64(max(st.KVCapacityTokens-st.KVUsedTokens, 0)),
	}
	switch {
	case fault != "":
		resp.Reason = "device fault: " + fault
	case s.stopping.Load():
		resp.Reason = "stopping"
	case !s.live.Load():
		resp.Reason = "engine not running"
	default:
		resp.Healthy = true
	}
	return resp, nil
}

// Versions reports what the worker has applied — runtime, policy and
// routing versions, model artifacts by digest and its device — so the
// harness can check that evidence names what actually served.
func (s *Server) Versions(ctx context.Context, _ *arcertv1.VersionsRequest) (*arcertv1.VersionsResponse, error) {
	if err := s.authorize(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	arts := make([]*arcertv1.Artifact, len(s.artifacts))
	for i, a := range s.artifacts {
		arts[i] = &arcertv1.Artifact{Model: a.GetModel(), Digest: a.GetDigest()}
	}
	s.mu.RUnlock()
	info := s.dev.Info()
	fault, _ := s.inflight.faulted()
	dev := s.res.status(fault)
	return &arcertv1.VersionsResponse{
		ResidentModels:   dev.GetResidentModels(),
		L1CapacityBlocks: dev.GetL1CapacityBlocks(),
		Role:             s.role,
		Worker:           s.id,
		Region:           s.region,
		Pool:             s.pool,
		RuntimeVersion:   s.runtime.Version,
		PolicyVersion:    s.runtime.PolicyVersion,
		RoutingVersion:   s.runtime.RoutingVersion,
		Artifacts:        arts,
		Instance:         s.instance,
		Devices: []*arcertv1.Device{{
			Uuid:             info.UUID,
			Name:             info.Name,
			MemoryTotalBytes: info.MemoryTotalBytes,
			MemoryUsedBytes:  info.MemoryUsedBytes,
			MemoryFreeBytes:  dev.GetMemoryFreeBytes(),
			Simulated:        info.Simulated,
			Pressure:         dev.GetPressure(),
			Fault:            fault,
		}},
	}, nil
}
