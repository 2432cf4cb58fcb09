package suites

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/aruntime/arcert/conformance/plan"
	"github.com/aruntime/arcert/conformance/report"
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

// TestExcludedRequirementsDoNotRun: a requirement the plan excludes runs no spec, and the others
// of its profile still do.
func TestExcludedRequirementsDoNotRun(t *testing.T) {
	filter := excluding("(profile:core)", []string{"QUO-1", "ADM-7"})
	lf, err := types.ParseLabelFilter(filter)
	if err != nil {
		t.Fatalf("%s: %v", filter, err)
	}
	for labels, want := range map[string]bool{
		"req:QUO-1,profile:core": false,
		"req:ADM-7,profile:core": false,
		"req:QUO-2,profile:core": true,
		"req:QUO-1,profile:ops":  false,
	} {
		if got := lf(strings.Split(labels, ",")); got != want {
			t.Errorf("%s under %q: runs %v, want %v", labels, filter, got, want)
		}
	}
	if excluding("x", nil) != "x" {
		t.Error("no exclusion changed the filter")
	}
}

// TestPanicIsNamedAHarnessBug: a spec that panicked is reported as the harness's fault, in one
// sentence, with the panic's own first line.
func TestPanicIsNamedAHarnessBug(t *testing.T) {
	f := types.Failure{Message: "Test Panicked", ForwardedPanic: "runtime error: index out of range [1] with length 1\ngoroutine 7"}
	got := report.Condense(failureText(f), "/x/suites/helpers.go:25")
	if got != "the check panicked, a harness bug: runtime error: index out of range [1] with length 1" {
		t.Errorf("note %q", got)
	}
	if failureText(types.Failure{Message: "plain"}) != "plain" {
		t.Error("a failure without a panic changed")
	}
}
