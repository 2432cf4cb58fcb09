package suites

import (
	"fmt"
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

// TestTimeoutSaysWhereItWaited: a spec that timed out keeps its one-sentence note, and its whole
// text names the module's own frames it was waiting in, the spec's goroutine first and identical
// stacks once with their count, never the frames of the runtime or of other modules.
func TestTimeoutSaysWhereItWaited(t *testing.T) {
	poll := types.Goroutine{State: "sleep", Stack: []types.FunctionCall{
		{Function: "time.Sleep", Filename: "/go/time.go", Line: 3},
		{Function: "github.com/aruntime/arcert/chaos/containers.(*Deployment).poll", Filename: "/x/chaos/containers/nodes.go", Line: 240},
	}}
	gs := []types.Goroutine{
		{ID: 1, State: "select", IsSpecGoroutine: true, Stack: []types.FunctionCall{
			{Function: "runtime.selectgo", Filename: "/go/select.go", Line: 1},
			{Function: "github.com/aruntime/arcert/suites.faultRun.run", Filename: "/x/suites/faultrun.go", Line: 164},
		}},
		poll, poll, poll,
		{ID: 5, State: "IO wait", Stack: []types.FunctionCall{{Function: "net.read", Filename: "/go/net.go", Line: 9}}},
	}
	f := types.Failure{Message: "A spec timeout occurred", ProgressReport: types.ProgressReport{
		CurrentNodeType: types.NodeTypeIt, CurrentStepText: "restarting", Goroutines: gs}}
	text := failureText(f)
	for _, want := range []string{`at step "restarting"`, "the spec's goroutine (select) was in:\n  suites.faultRun.run at /x/suites/faultrun.go:164\n",
		"3 goroutines (sleep) were in:\n  chaos/containers.(*Deployment).poll at /x/chaos/containers/nodes.go:240"} {
		if !strings.Contains(text, want) {
			t.Errorf("the failure text lacks %q:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"selectgo", "net.read", "time.Sleep"} {
		if strings.Contains(text, unwanted) {
			t.Errorf("the failure text names the frame %s outside the module:\n%s", unwanted, text)
		}
	}
	if got := report.Condense(text, "/x/suites/resilience_coldstart.go:39"); got != "A spec timeout occurred" {
		t.Errorf("note %q", got)
	}
	var many []types.Goroutine
	for i := range 20 {
		many = append(many, types.Goroutine{State: "select", Stack: []types.FunctionCall{
			{Function: fmt.Sprintf("github.com/aruntime/arcert/suites.wait%d", i), Filename: "/x/suites/w.go", Line: i}}})
	}
	f.ProgressReport.Goroutines = many
	if text := failureText(f); strings.Count(text, " was in:") != waitedStacks || !strings.Contains(text, "(and 12 more stacks)") {
		t.Errorf("20 different stacks are not cut to %d:\n%s", waitedStacks, text)
	}
}
