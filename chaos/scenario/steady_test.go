package scenario

import (
	"context"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/ledger"
)

// TestCompletedOnlySteadyStateRefusesARuntimeStillRerouting: probes answered rerouted are served,
// but a runtime still failing over is not at its steady state when the plan asks for completed
// probes; with served probes (a game day) it is.
func TestCompletedOnlySteadyStateRefusesARuntimeStillRerouting(t *testing.T) {
	rerouted := func(_ context.Context, req Request) ledger.Entry {
		at := time.Now()
		return ledger.Entry{Tenant: req.Tenant, Start: at, End: at, Outcome: outcome.Rerouted, Reason: outcome.ReasonRegionFailover,
			ServedBy: outcome.ServedBy{Region: "us-east"}}
	}
	for _, strict := range []bool{false, true} {
		p := Plan{Name: "steady", Seed: 1,
			Steady: Steady{Probes: 3, Within: 300 * time.Millisecond, CompletedOnly: strict, Tenants: []SteadyTenant{{Tenant: "a"}}},
			Phases: []Phase{{Name: "p", Duration: 100 * time.Millisecond, Load: []Load{{Tenant: "a", Rate: 10}}}}}
		out := Run(context.Background(), p, Env{Send: rerouted})
		if got := out.SteadyBefore.Result.OK(); got == strict { // strict must refuse, lenient must accept
			t.Errorf("CompletedOnly %v: steady state %+v", strict, out.SteadyBefore.Result)
		}
	}
}
