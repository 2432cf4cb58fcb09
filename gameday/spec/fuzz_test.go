package spec

import (
	"os"
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/target"
)

// maxFuzzBytes bounds fuzz inputs, as libFuzzer's -max_len does: real files are a few kilobytes.
// Larger inputs are bounded by Parse's own size limit.
const maxFuzzBytes = 64 << 10

// FuzzParse: no input makes Parse or Plan panic; every error names the file; an accepted file
// has phases and compiles against the reference target or says why, at a line of the file.
// Run it as `go test -run ^$ -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 200x
// ./gameday/spec/`: minimising each new input for the default 60 s eats a short -fuzztime.
func FuzzParse(f *testing.F) {
	for _, path := range fixtures(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: arcert.dev/v1\nkind: GameDay\n"))
	ref, err := target.Load("../../fixtures/targets/reference.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzBytes {
			return // see maxFuzzBytes
		}
		gd, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q names no file", err)
			}
			return
		}
		if len(gd.Spec.Phases) == 0 || gd.Spec.Duration() <= 0 {
			t.Fatal("accepted a scenario without phases")
		}
		_ = gd.TargetChoice()
		plan, err := gd.Plan(ref)
		if err != nil {
			for _, p := range Problems(err) {
				if p.File != "fuzz.yaml" || p.Field == "" {
					t.Fatalf("compile mistake %q names no file or field", p)
				}
			}
			return
		}
		if plan.Duration() != gd.Spec.Duration() {
			t.Fatalf("plan lasts %s, the file %s", plan.Duration(), gd.Spec.Duration())
		}
	})
}
