package report

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestEveryFormatSaysAPassWasReadFromTheDeclaration: a PASS that rests on the target file alone
// is labelled so in report.json, junit.xml, summary.md and report.html; a measured PASS is not.
func TestEveryFormatSaysAPassWasReadFromTheDeclaration(t *testing.T) {
	declared := map[string]int{DeclarationPath: 6}
	r := Compute(inputs([]SpecRecord{
		{Name: "read", Requirements: []string{"QUO-4"}, State: SpecPassed, Samples: declared,
			Unprobed: map[string]string{"cost": "the runtime keeps no evidence"}, Evidence: []string{"capacity and prices stated"}},
		{Name: "measured", Requirements: []string{"OUT-1"}, State: SpecPassed, Samples: enough("OUT-1")},
	}, all, "QUO-4", "OUT-1"))
	if q := result(r, "QUO-4"); q.Result != Pass || q.Basis != Declared {
		t.Fatalf("QUO-4: %s basis %q: %s", q.Result, q.Basis, q.Message)
	}
	if q := result(r, "OUT-1"); q.Basis != Measured || q.BasisLabel() != "" {
		t.Fatalf("OUT-1: basis %q, label %q", q.Basis, q.BasisLabel())
	}
	label := Declared.Label()
	for name, write := range map[string]func(io.Writer, *Report) error{
		JSONFile: WriteJSON, JUnitFile: WriteJUnit, SummaryFile: WriteMarkdown, HTMLFile: WriteHTML,
	} {
		var b bytes.Buffer
		if err := write(&b, r); err != nil {
			t.Fatal(err)
		}
		want := label
		if name == JSONFile {
			want = `"basis": "declaration"`
		}
		if n := strings.Count(b.String(), want); n == 0 {
			t.Errorf("%s does not say QUO-4 was checked from the declaration:\n%s", name, b.String())
		}
	}
	var back Report
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || result(&back, "QUO-4").Basis != Declared {
		t.Fatalf("the basis did not survive JSON: %v", err)
	}
}
