package suites

import (
	"testing"

	"github.com/aruntime/arcert/conformance/plan"
)

// TestPlanMirrorsTheSuitesGates: conformance/plan states the suites' validity gates over the
// declarations alone, with copies of the suites' load parameters; a change here must reach it, or
// `arcert target validate` would promise runs the suites then call INVALID.
func TestPlanMirrorsTheSuitesGates(t *testing.T) {
	for name, pair := range map[string][2]float64{
		"overloadFactor":       {overloadFactor, plan.OverloadFactor},
		"quotaHeadroom":        {quotaHeadroom, plan.QuotaHeadroom},
		"probeRate":            {probeRate, plan.ProbeRate},
		"lcProbeRate":          {lcProbeRate, plan.LCProbeRate},
		"lcBurstShare":         {lcBurstShare, plan.LCBurstShare},
		"lcContextShare":       {lcContextShare, plan.LCContextShare},
		"lcLongMaxTokens":      {lcLongMaxTokens, plan.LCLongMaxTokens},
		"lcBurstEvery":         {float64(lcBurstEvery), float64(plan.LCBurstEvery)},
		"quotaFactor":          {quotaFactor, plan.QuotaFactor},
		"requestRunWindow":     {float64(requestRunDuration - requestRunWarmup), float64(plan.RequestRunWindow)},
		"tokenRunWindow":       {float64(tokenRunDuration - tokenRunWarmup), float64(plan.TokenRunWindow)},
		"minQuotaSamples":      {minQuotaSamples, plan.MinQuotaSamples},
		"quotaLoadShare":       {quotaLoadShare, plan.QuotaLoadShare},
		"tokenRunRequestShare": {tokenRunRequestShare, plan.TokenRunRequestShare},
		"tokenRunMaxTokens":    {tokenRunMaxTokens, plan.TokenRunMaxTokens},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s: the suites use %v, conformance/plan %v", name, pair[0], pair[1])
		}
	}
}
