package spec

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/gamedays"
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
		})
	}
}

// TestEmbeddedScenarios: the embedded set is the directory's, and each embedded file parses
// under the name it is reported by.
func TestEmbeddedScenarios(t *testing.T) {
	var want []string
	for _, p := range fixtures(t) {
		want = append(want, strings.TrimSuffix(filepath.Base(p), ".yaml"))
	}
	if got := gamedays.Names(); !slices.Equal(got, want) {
		t.Fatalf("embedded %v, directory %v", got, want)
	}
	for _, name := range want {
		path, data, err := gamedays.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		if f.Metadata.Name != name {
			t.Errorf("%s is called %q inside", path, f.Metadata.Name)
		}
	}
	if _, _, err := gamedays.Read("no-such-day"); err == nil {
		t.Error("a missing scenario read")
	}
}
