package suites

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
)

// networkCut is the fault kind recorded for a part taken off one of the deployment's networks.
const networkCut fault.Kind = "network-cut"

// restoreTimeout bounds one reconnection of a part to a network when a cut is healed.
const restoreTimeout = 30 * time.Second

// workerRole is the node role of the runtime's execution workers.
const workerRole = "worker"

// netCutter is the harness's control of the deployment's networks, nil when it has none: the
// network-partition specs are then INCONCLUSIVE.
func netCutter() fault.NetworkCutter {
	if env.Nodes == nil {
		return nil
	}
	c, _ := env.Nodes.(fault.NetworkCutter)
	return c
}

// cutNetwork takes part role/name off network and returns the heal that puts it back, registered
// with holdFault so noResidue restores it whatever happens to the spec. The heal records the cut's
// window in the report.
func cutNetwork(ctx context.Context, c fault.NetworkCutter, role, name, network string) func() error {
	start := time.Now()
	restore := func() error {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
		defer cancel()
		if err := c.RestoreNetwork(rctx, role, name, network); err != nil {
			return fmt.Errorf("reconnecting %s %s to network %s: %w", role, name, network, err)
		}
		recordWindow(fault.Window{Fault: fault.Fault{Kind: networkCut}, Role: link.Role(role), Name: name + " off " + network, Start: start, End: time.Now()})
		return nil
	}
	if err := c.CutNetwork(ctx, role, name, network); err != nil {
		// A cut that failed half way may still have taken the part off: put it back before failing.
		Expect(errors.Join(err, restore())).NotTo(HaveOccurred(), "cutting %s %s from network %s", role, name, network)
	}
	return holdFault(restore)
}

// cutAll cuts every part of role in names from network and returns the heal of them all.
func cutAll(ctx context.Context, c fault.NetworkCutter, role string, names []string, network string) func() error {
	heals := make([]func() error, 0, len(names))
	for _, n := range names {
		heals = append(heals, cutNetwork(ctx, c, role, n, network))
	}
	return func() error {
		var errs []error
		for _, h := range heals {
			errs = append(errs, h())
		}
		return errors.Join(errs...)
	}
}

// regionWorkerParts are the worker parts of region: the parts of the target's region
// dependencies named region (Link.Part names the worker), kept to those the harness controls.
func regionWorkerParts(region string) []string {
	parts := env.Nodes.Parts(workerRole)
	var out []string
	for _, d := range env.Target.Dependencies {
		if d.Role == link.RoleRegion && d.Name == region && d.Part != "" && slices.Contains(parts, d.Part) && !slices.Contains(out, d.Part) {
			out = append(out, d.Part)
		}
	}
	return out
}

// FBK-4: the FBK-2 judgement with the region taken away by its network rather than a proxy.
var _ = describeRegionOutage(regionFault{describe: "Primary region network cut", label: "fault:region", run: "region-netcut", stream: 303, req: "FBK-4",
	prepare: func(p regionPlan) error {
		c := netCutter()
		if c == nil {
			return fmt.Errorf("%w: the harness cannot cut this deployment's networks", errCannotPlan)
		}
		d := env.Target.Deployment
		if d == nil || d.RegionNetworks[p.primary.Name] == "" {
			return fmt.Errorf("%w: the target's deployment names no network of region %s", errCannotPlan, p.primary.Name)
		}
		if len(regionWorkerParts(p.primary.Name)) == 0 {
			return fmt.Errorf("%w: no worker part the harness controls is declared in region %s (dependencies of role region name %s with a part)",
				errCannotPlan, p.primary.Name, p.primary.Name)
		}
		return nil
	},
	inject: func(ctx context.Context, p regionPlan) func() error {
		return cutAll(ctx, netCutter(), workerRole, regionWorkerParts(p.primary.Name), env.Target.Deployment.RegionNetworks[p.primary.Name])
	},
})

// movedProblems is FBK-4's check of the allowed tenants' requests served during the cut, beyond
// the policy checks it shares with FBK-2 (FBK-2 judges the label in OUT-8, which FBK-4 does not
// run): each must carry content and be labelled rerouted for a move, served away from primary. A
// runtime that moves the work but calls it completed, or answers it empty, is not failing over.
func movedProblems(moved []chaosledger.Entry, primary string) []string {
	var out []string
	for _, e := range moved {
		out = append(out, hollowServe(e)...)
		switch {
		case e.Outcome != outcome.Rerouted:
			out = append(out, fmt.Sprintf("request #%d of %s over %s was served in %s (provider %s) but labelled %s/%s, not rerouted",
				e.Seq, e.Tenant, e.Path, e.ServedBy.Region, e.ServedBy.Provider, e.Outcome, e.Reason))
		case !slices.Contains([]outcome.Reason{outcome.ReasonRegionFailover, outcome.ReasonPoolFailover, outcome.ReasonProviderFallback}, e.Reason):
			out = append(out, fmt.Sprintf("request #%d of %s over %s is rerouted for reason %s", e.Seq, e.Tenant, e.Path, e.Reason))
		}
		if e.ServedBy.Region == "" || e.ServedBy.Region == primary {
			out = append(out, fmt.Sprintf("request #%d of %s over %s was moved but names %q as where it was served", e.Seq, e.Tenant, e.Path, e.ServedBy.String()))
		}
	}
	return out
}
