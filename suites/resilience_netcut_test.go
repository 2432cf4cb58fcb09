package suites

import (
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
)

// movedRun is four requests of an allowed tenant moved from eu-west to eu-central during a cut,
// one per wire, each labelled rerouted/region_failover with content.
func movedRun() []chaosledger.Entry {
	var out []chaosledger.Entry
	for i, p := range []string{viaHTTP, viaHTTPStream, viaGRPC, viaGRPCStream} {
		out = append(out, chaosledger.Entry{Seq: i + 1, Tenant: "globex", Path: p, Outcome: outcome.Rerouted, Reason: outcome.ReasonRegionFailover,
			ServedBy: outcome.ServedBy{Region: "eu-central", Worker: "w-2"}, Tokens: 2, RequestID: "r"})
	}
	return out
}

func TestMovedProblemsPassesAFailover(t *testing.T) {
	if p := movedProblems(movedRun(), "eu-west"); len(p) != 0 {
		t.Errorf("a clean failover: %v", p)
	}
}

func TestMovedProblemsFails(t *testing.T) {
	cases := map[string]struct {
		change func(e *chaosledger.Entry)
		want   string
	}{
		"moved but labelled completed": {func(e *chaosledger.Entry) { e.Outcome, e.Reason = outcome.Completed, outcome.ReasonNone }, "labelled completed/none, not rerouted"},
		"rerouted for another reason":  {func(e *chaosledger.Entry) { e.Reason = outcome.ReasonCapacity }, "is rerouted for reason capacity"},
		"served empty":                 {func(e *chaosledger.Entry) { e.Tokens = 0 }, "was answered rerouted with no content"},
		"naming no region":             {func(e *chaosledger.Entry) { e.ServedBy.Region = "" }, "was moved but names"},
		"naming the region cut":        {func(e *chaosledger.Entry) { e.ServedBy.Region = "eu-west" }, `names "region=eu-west`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			moved := movedRun()
			c.change(&moved[2])
			p := movedProblems(moved, "eu-west")
			if len(p) != 1 || !strings.Contains(p[0], c.want) || !strings.Contains(p[0], "#3") {
				t.Errorf("problems %v; want one naming request #3 and %q", p, c.want)
			}
		})
	}
}
