package outcome

import (
	"os"
	"strings"
	"testing"
)

// TestEveryReasonHasAContractEntry: each reason belongs to a valid class, and its HTTP status
// agrees with the class (served classes 200, refusals 4xx, failures 5xx or 499).
func TestEveryReasonHasAContractEntry(t *testing.T) {
	for _, r := range SortedReasons() {
		i, ok := r.Info()
		if !ok || !i.Class.Valid() || i.Doc == "" {
			t.Fatalf("reason %q has no complete entry: %+v", r, i)
		}
		switch s := i.HTTPStatus; i.Class {
		case Completed, Rerouted, Degraded:
			if s != 200 {
				t.Errorf("%s: served class with status %d", r, s)
			}
		case Rejected:
			if s < 400 || s >= 500 {
				t.Errorf("%s: rejected with status %d", r, s)
			}
		case Shed:
			if s != 429 && s != 503 {
				t.Errorf("%s: shed with status %d", r, s)
			}
		case TimedOut:
			if s != 504 {
				t.Errorf("%s: timed_out with status %d", r, s)
			}
		case Failed:
			if s < 499 {
				t.Errorf("%s: failed with status %d", r, s)
			}
		}
	}
	for _, c := range Classes {
		found := false
		for _, r := range SortedReasons() {
			found = found || r.Class() == c
		}
		if !found {
			t.Errorf("class %s has no reason", c)
		}
	}
}

// TestREADMEDocumentsTheReasons keeps README.md's table and the enum in step; regenerate the
// table with `go run ./internal/tools/reasons`.
func TestREADMEDocumentsTheReasons(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), ReasonTable()) {
		t.Fatal("README.md's reason table differs from the enum: run `go run ./internal/tools/reasons` and paste its output")
	}
}

func TestParse(t *testing.T) {
	if _, err := ParseClass("served"); err == nil {
		t.Fatal("unknown class accepted")
	}
	if c, err := ParseClass(" shed "); err != nil || c != Shed {
		t.Fatalf("ParseClass: %v %v", c, err)
	}
	if _, err := ParseReason("because"); err == nil {
		t.Fatal("unknown reason accepted")
	}
	if Reason("because").Class() != Failed {
		t.Fatal("an unknown reason must count as failed")
	}
}

func TestServedByRoundTrip(t *testing.T) {
	sb := ServedBy{Region: "eu-west", Pool: "gpu-a100", Provider: "aruntime", Deployment: "dev", Worker: "worker-a"}
	got, err := ParseServedBy(sb.String())
	if err != nil || got != sb {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := ParseServedBy("region=eu; zone=a"); err == nil {
		t.Fatal("unknown key accepted")
	}
	if _, err := ParseServedBy("region"); err == nil {
		t.Fatal("part without '=' accepted")
	}
	if !(ServedBy{}).IsZero() || sb.IsZero() {
		t.Fatal("IsZero")
	}
}
