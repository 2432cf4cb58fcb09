package ledger

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

func TestOneTerminalOutcomeFlagsMissingUnknownAndViolatingOutcomes(t *testing.T) {
	entries := []Entry{
		{Seq: 1, Outcome: outcome.Completed},
		{Seq: 2},
		{Seq: 3, Outcome: "sort-of-ok"},
		{Seq: 4, Outcome: outcome.Failed, Violations: []string{"status 200 for failed"}},
		{Seq: 5, Indeterminate: true},
	}
	got := OneTerminalOutcome(entries)
	if len(got) != 3 || got[0].Seq != 2 || got[1].Seq != 3 || got[2].Seq != 4 {
		t.Fatalf("problems: %v", got)
	}
}

func TestReconcileResolvesAgainstRecords(t *testing.T) {
	records := map[string]int{"once": 1, "twice": 2}
	entries := []Entry{
		{Seq: 1, Outcome: outcome.Completed, RequestID: "done"},
		{Seq: 2, Indeterminate: true, RequestID: "once"},
		{Seq: 3, Indeterminate: true, RequestID: "twice"},
		{Seq: 4, Indeterminate: true, RequestID: "never"},
		{Seq: 5, Indeterminate: true},
	}
	got := Reconcile(entries, func(id string) int { return records[id] })
	want := []Resolution{Recovered, Duplicated, Lost, Unresolvable}
	if len(got) != len(want) {
		t.Fatalf("resolved %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, r := range got {
		if r.Resolution != want[i] {
			t.Errorf("entry #%d: %s, want %s", r.Entry.Seq, r.Resolution, want[i])
		}
	}
}

func TestWindowsAndDeadlines(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var l Ledger
	l.Record(Entry{Start: t0.Add(2 * time.Second), End: t0.Add(9 * time.Second), Deadline: 5 * time.Second, Outcome: outcome.TimedOut})
	l.Record(Entry{Start: t0, End: t0.Add(time.Second), Deadline: 5 * time.Second, Outcome: outcome.Completed})
	all := l.Entries()
	if all[0].Seq != 2 || all[1].Seq != 1 {
		t.Fatalf("entries not ordered by start: %+v", all)
	}
	in := Started(all, Window{Start: t0.Add(time.Second), End: t0.Add(3 * time.Second)})
	if len(in) != 1 || in[0].Seq != 1 {
		t.Fatalf("started in window: %+v", in)
	}
	hung := NoneHung(all, func(e Entry) bool { return e.Latency() <= e.Deadline+time.Second })
	if len(hung) != 1 || hung[0].Seq != 1 {
		t.Fatalf("hung: %v", hung)
	}
	if c := Counts(all); c["completed/"] != 1 || c["timed_out/"] != 1 {
		t.Fatalf("counts: %v", c)
	}
}

// TestCoreFieldsStayOutOfGameDayLines: a game day streams every request to ledger.jsonl, so the
// fields only Core load runs fill must cost nothing when empty, and survive a round trip when set.
func TestCoreFieldsStayOutOfGameDayLines(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	plain, err := json.Marshal(Entry{Seq: 1, Tenant: "a", Start: at, End: at.Add(time.Second), Outcome: outcome.Completed})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"scheduled", "itl", "status", "retry_after", "prompt_tokens", "error"} {
		if strings.Contains(string(plain), `"`+field+`"`) {
			t.Errorf("an entry without %s writes it: %s", field, plain)
		}
	}
	core := Entry{Seq: 2, Tenant: "a", Scheduled: at, Start: at, End: at.Add(time.Second), ITL: []time.Duration{time.Millisecond},
		Status: 429, RetryAfter: 2 * time.Second, PromptTokens: 7, Error: "connection reset", Outcome: outcome.Shed}
	raw, err := json.Marshal(core)
	if err != nil {
		t.Fatal(err)
	}
	var back Entry
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, core) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", back, core)
	}
}

// TestEndpointRoundTrips: the router an entry names survives a round trip under "endpoint", and
// an entry that names none (a ledger of one router, written before) writes no such field.
func TestEndpointRoundTrips(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	e := Entry{Seq: 3, Tenant: "a", Endpoint: "http://10.0.0.2:8080", Start: at, End: at.Add(time.Second), Outcome: outcome.Completed}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"endpoint":"http://10.0.0.2:8080"`) {
		t.Errorf("no endpoint field in %s", raw)
	}
	var back Entry
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", back, e)
	}
	e.Endpoint = ""
	if raw, _ = json.Marshal(e); strings.Contains(string(raw), `"endpoint"`) {
		t.Errorf("an entry without an endpoint writes one: %s", raw)
	}
}
