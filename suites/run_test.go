package suites

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/report"
)

func entry(name string, v any) types.ReportEntry {
	return types.ReportEntry{Name: name, Value: types.WrapEntryValue(v)}
}

// TestRecordsReadEveryEntryKindBackByType: what a spec records reaches the report as it was
// given, with no string in between.
func TestRecordsReadEveryEntryKindBackByType(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	w := fault.Window{Fault: fault.Fault{Kind: fault.Down}, Role: "queue", Name: "q1", Start: at, End: at.Add(3 * time.Second)}
	p := report.Plot{Kind: report.Series, Title: "time to shed: a: b"}
	s := spec(types.SpecStatePassed, time.Second, "req:ADM-2", "profile:core")
	s.ReportEntries = types.ReportEntries{
		entry(entryEvidence, evidenceLine("p99 12ms: within 50ms")),
		entry(entrySamples, samples{"class:batch\twith a tab", 40}),
		entry(entrySamples, samples{"class:batch\twith a tab", 2}),
		entry(entryUnprobed, unprobed{"grpc", "no gRPC endpoint: none declared"}),
		entry(entryPlot, plotted{p}),
		entry(entryFault, faultHeld{w}),
		entry(entryVerdict, verdict{report.Invalid, "only 3 samples: too few"}),
		{Name: "someone else's", Value: types.WrapEntryValue(42)},
	}
	recs, err := records(types.Report{SpecReports: types.SpecReports{s}})
	if err != nil {
		t.Fatal(err)
	}
	want := report.SpecRecord{Requirements: []string{"ADM-2"}, State: report.SpecPassed, Duration: time.Second,
		Verdict: report.Invalid, Message: "only 3 samples: too few", Evidence: []string{"p99 12ms: within 50ms"},
		Samples: map[string]int{"class:batch\twith a tab": 42}, Unprobed: map[string]string{"grpc": "no gRPC endpoint: none declared"},
		Plots: []report.Plot{p}, Faults: []report.FaultWindow{{Role: "queue", Name: "q1", Fault: w.Fault.String(), Start: at, End: w.End}}}
	if len(recs) != 1 || !reflect.DeepEqual(recs[0], want) {
		t.Fatalf("records:\n%+v\nwant\n%+v", recs, want)
	}
}

// TestRecordsRefuseAnEntryThatLostItsValue: an entry rebuilt from JSON holds a map, not the
// spec's verdict; reading it as no verdict would pass an INVALID run, so records refuses it.
func TestRecordsRefuseAnEntryThatLostItsValue(t *testing.T) {
	raw, err := json.Marshal(entry(entryVerdict, verdict{report.Invalid, "too few"}))
	if err != nil {
		t.Fatal(err)
	}
	var back types.ReportEntry
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	s := spec(types.SpecStatePassed, time.Second, "req:ADM-2", "profile:core")
	s.ReportEntries = types.ReportEntries{back}
	if _, err := records(types.Report{SpecReports: types.SpecReports{s}}); err == nil || !strings.Contains(err.Error(), entryVerdict) {
		t.Fatalf("records of a rehydrated verdict: err %v, want one naming %s", err, entryVerdict)
	}
}

// TestEntriesPrintForPeople: Ginkgo prints an entry by its String, so each kind reads as a line.
func TestEntriesPrintForPeople(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    any
		want string
	}{
		{verdict{report.Inconclusive, "the control failed"}, "INCONCLUSIVE: the control failed"},
		{samples{"http", 3}, "3 judged on http"},
		{unprobed{"grpc", "none declared"}, "grpc not probed: none declared"},
		{plotted{report.Plot{Title: "TTFT"}}, "plot: TTFT"},
		{faultHeld{fault.Window{Fault: fault.Fault{Kind: fault.Down}, Role: "region", Name: "eu-west", Start: at, End: at.Add(1500 * time.Millisecond)}},
			fault.Fault{Kind: fault.Down}.String() + " on region eu-west at 12:00:00, for 1.5s"},
	} {
		if got := entry("x", c.v).StringRepresentation(); got != c.want {
			t.Errorf("%T prints %q, want %q", c.v, got, c.want)
		}
	}
}
