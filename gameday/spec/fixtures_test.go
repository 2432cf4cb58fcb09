package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aruntime/arcert/conformance/target"
)

// fixtures are the shipped scenarios.
func fixtures(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob("../../fixtures/gamedays/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped scenarios: %v", err)
	}
	return paths
}

// TestShippedScenariosCompile: every shipped scenario parses and compiles against both the
// embedded and the containerized reference targets.
func TestShippedScenariosCompile(t *testing.T) {
	var targets []*target.Target
	for _, name := range []string{"reference.yaml", "containers.yaml"} {
		tg, err := target.Load("../../fixtures/targets/" + name)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, tg)
	}
	for _, path := range fixtures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range targets {
				plan, err := f.Plan(tg)
				if err != nil {
					t.Fatalf("against %s: %v", tg.Source, err)
				}
				if plan.Duration() <= 0 || len(plan.Phases) == 0 || len(plan.Steady.Tenants) == 0 {
					t.Fatalf("against %s: an empty plan %+v", tg.Source, plan)
				}
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err)
			}
		})
	}
}
