package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/scenario"
)

// Node fault kinds, as chaos/fault names them: the part itself is taken away rather than the
// link it dials. Kill is abrupt, Stop graceful, Pause freezes the part, Partition disconnects it
// from the network (containers).
const (
	KindKill      fault.Kind = "kill"
	KindStop      fault.Kind = "stop"
	KindPause     fault.Kind = "pause"
	KindPartition fault.Kind = "partition"
)

// linkKinds are the toxiproxy faults of chaos/fault with the parameters each takes.
var linkKinds = map[fault.Kind][]string{
	fault.Down:      nil,
	fault.Latency:   {"latency", "jitter", "upstreamOnly"},
	fault.Blackhole: {"timeout", "upstreamOnly"},
	fault.ResetPeer: {"timeout", "upstreamOnly"},
	fault.Bandwidth: {"rateKBps", "upstreamOnly"},
	fault.Slicer:    {"averageSize", "sizeVariation", "delay", "upstreamOnly"},
	fault.LimitData: {"bytes", "upstreamOnly"},
}

// nodeKinds take no parameters.
var nodeKinds = []fault.Kind{KindKill, KindStop, KindPause, KindPartition}

// LinkRoles are the dependency roles a link fault may select, as target files declare them:
// link.Roles, as strings because a selector's role may also name a part (NodeRoles).
var LinkRoles = linkRoles()

// linkRoles spells link.Roles as the strings a selector carries.
func linkRoles() []string {
	var out []string
	for _, r := range link.Roles() {
		out = append(out, string(r))
	}
	return out
}

// NodeRoles are the runtime's own parts a node fault may select (chaos/containers' roles; the
// embedded runtime has workers).
var NodeRoles = []string{"worker", "router", "durable", "cache", "provider"}

// isLinkKind and isNodeKind sort a kind.
func isLinkKind(k fault.Kind) bool { _, ok := linkKinds[k]; return ok }
func isNodeKind(k fault.Kind) bool { return slices.Contains(nodeKinds, k) }

// params are the parameters a fault sets, by their names in the file.
func (f Fault) params() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(f.Latency != 0, "latency")
	add(f.Jitter != 0, "jitter")
	add(f.Delay != 0, "delay")
	add(f.Timeout != 0, "timeout")
	add(f.RateKBps != 0, "rateKBps")
	add(f.Bytes != 0, "bytes")
	add(f.AverageSize != 0, "averageSize")
	add(f.SizeVariation != 0, "sizeVariation")
	add(f.UpstreamOnly, "upstreamOnly")
	return out
}

// faultOf is the chaos/fault value the file's fault describes.
func (f Fault) faultOf() fault.Fault {
	return fault.Fault{Kind: fault.Kind(f.Kind), Latency: f.Latency, Jitter: f.Jitter, Delay: f.Delay, Timeout: f.Timeout,
		RateKBps: f.RateKBps, Bytes: f.Bytes, AverageSize: f.AverageSize, SizeVariation: f.SizeVariation, UpstreamOnly: f.UpstreamOnly}
}

// ParseMode reads a selector's mode: one, all, fixed:N (N ≥ 1) or percent:P (0 < P ≤ 100).
// The empty mode is all.
func ParseMode(s string) (scenario.Mode, error) {
	switch s {
	case "", "all":
		return scenario.Mode{Kind: scenario.All}, nil
	case "one":
		return scenario.Mode{Kind: scenario.One}, nil
	}
	k, v, ok := strings.Cut(s, ":")
	switch {
	case ok && k == "fixed":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return scenario.Mode{}, fmt.Errorf("fixed:N needs a whole number N of at least 1, not %q", v)
		}
		return scenario.Mode{Kind: scenario.Fixed, N: n}, nil
	case ok && k == "percent":
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || !(p > 0 && p <= 100) {
			return scenario.Mode{}, fmt.Errorf("percent:P needs a number P above 0 and at most 100, not %q", v)
		}
		return scenario.Mode{Kind: scenario.Percent, Percent: p}, nil
	}
	return scenario.Mode{}, fmt.Errorf("%q is not a mode: one, all, fixed:N or percent:P", s)
}
