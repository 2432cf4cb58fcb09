// Package fault cuts and degrades the links between a runtime and its dependencies through
// toxiproxy, and undoes every fault it made. One proxy stands on each link the target declares
// (provider, each region's workers, registry, queue, cache, evidence); a fault is a toxic on a
// proxy, or the proxy disabled ("down" is not a toxic in toxiproxy). Faults are recorded as
// windows, so a report can say when each one held.
package fault

import (
	"errors"
	"fmt"
	"time"

	"github.com/aruntime/arcert/api/link"
)

// Link is one dependency link with a proxy on it: the runtime dials Dial, where the proxy
// listens, and the proxy forwards to Upstream. Several links may share a role and name (every
// worker of a region is one link of role region, name eu-west, each with its own proxy). The
// roles are link.Role's.
type Link struct {
	link.Link
	// Proxy is the toxiproxy proxy's name, role.name[.part].
	Proxy string `json:"proxy"`
}

// Kind names a fault.
type Kind string

// The faults the engine injects. Down disables the proxy: new connections are refused and live
// ones are closed. The rest are toxiproxy toxics on both directions of the link unless the
// Fault says otherwise.
const (
	Down      Kind = "down"
	Latency   Kind = "latency"
	Blackhole Kind = "timeout"
	ResetPeer Kind = "reset_peer"
	Bandwidth Kind = "bandwidth"
	Slicer    Kind = "slicer"
	LimitData Kind = "limit_data"
)

// Fault is one fault to inject, with the parameters its kind uses.
type Fault struct {
	Kind Kind `json:"kind"`
	// Latency and Jitter for Latency; Delay between slices for Slicer.
	Latency time.Duration `json:"latency,omitempty"`
	Jitter  time.Duration `json:"jitter,omitempty"`
	Delay   time.Duration `json:"delay,omitempty"`
	// Timeout for Blackhole (0 holds data forever) and ResetPeer (0 resets at once).
	Timeout time.Duration `json:"timeout,omitempty"`
	// RateKBps for Bandwidth; Bytes for LimitData; AverageSize and SizeVariation for Slicer.
	RateKBps      int64 `json:"rate_kbps,omitempty"`
	Bytes         int64 `json:"bytes,omitempty"`
	AverageSize   int   `json:"average_size,omitempty"`
	SizeVariation int   `json:"size_variation,omitempty"`
	// Upstream only, when true, puts the toxic on the runtime→dependency direction alone.
	UpstreamOnly bool `json:"upstream_only,omitempty"`
}

// String names the fault for logs and reports.
func (f Fault) String() string {
	switch f.Kind {
	case Latency:
		return fmt.Sprintf("latency %s±%s", f.Latency, f.Jitter)
	case Blackhole:
		return fmt.Sprintf("blackhole (timeout %s)", f.Timeout)
	case Bandwidth:
		return fmt.Sprintf("bandwidth %d KB/s", f.RateKBps)
	case LimitData:
		return fmt.Sprintf("limit_data %d bytes", f.Bytes)
	default:
		return string(f.Kind)
	}
}

// attributes returns the toxic's attributes, or an error naming a parameter that is missing.
func (f Fault) attributes() (map[string]any, error) {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	switch f.Kind {
	case Latency:
		if f.Latency <= 0 {
			return nil, fmt.Errorf("%w: latency needs a positive Latency", ErrFault)
		}
		return map[string]any{"latency": ms(f.Latency), "jitter": ms(f.Jitter)}, nil
	case Blackhole:
		return map[string]any{"timeout": ms(f.Timeout)}, nil
	case ResetPeer:
		return map[string]any{"timeout": ms(f.Timeout)}, nil
	case Bandwidth:
		if f.RateKBps <= 0 {
			return nil, fmt.Errorf("%w: bandwidth needs a positive RateKBps", ErrFault)
		}
		return map[string]any{"rate": f.RateKBps}, nil
	case Slicer:
		if f.AverageSize <= 0 {
			return nil, fmt.Errorf("%w: slicer needs a positive AverageSize", ErrFault)
		}
		return map[string]any{"average_size": f.AverageSize, "size_variation": f.SizeVariation, "delay": f.Delay.Microseconds()}, nil
	case LimitData:
		if f.Bytes <= 0 {
			return nil, fmt.Errorf("%w: limit_data needs positive Bytes", ErrFault)
		}
		return map[string]any{"bytes": f.Bytes}, nil
	}
	return nil, fmt.Errorf("%w: unknown kind %q", ErrFault, f.Kind)
}

// Sentinel errors of the engine.
var (
	// ErrFault marks a fault that cannot be injected as asked.
	ErrFault = errors.New("fault: invalid fault")
	// ErrNoLink means no declared link matches a role and name.
	ErrNoLink = errors.New("fault: no such link")
	// ErrResidue means a fault outlived its window: a proxy left disabled or a toxic left on.
	ErrResidue = errors.New("fault: residue left")
	// ErrUnsupported means the deployment cannot cause a node fault of that kind (the embedded
	// runtime cannot pause a worker).
	ErrUnsupported = errors.New("fault: not supported by the deployment")
)

// Window records one fault: what, on which links, and when it held.
type Window struct {
	Fault Fault     `json:"fault"`
	Role  link.Role `json:"role"`
	Name  string    `json:"name,omitempty"`
	Part  string    `json:"part,omitempty"`
	Links []string  `json:"proxies"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}
