package spec

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/chaos/scenario"
	"github.com/aruntime/arcert/conformance/target"
)

func loadTarget(t *testing.T, name string) *target.Target {
	t.Helper()
	tg, err := target.Load("../../fixtures/targets/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestPlanOfRegionEvacuation compiles the CI scenario against the reference target and checks
// what the compiler resolved: rates from the declared capacity, class objectives, the tenants'
// policies, the selector and the recovery time from resilience.recovery.
func TestPlanOfRegionEvacuation(t *testing.T) {
	f, err := Parse("gd.yaml", []byte(evacuation(t)))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := f.Plan(loadTarget(t, "reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Name != "region-evacuation" || plan.Seed != 20261203 || plan.Duration() != 35*time.Second {
		t.Fatalf("header %q seed %d duration %s", plan.Name, plan.Seed, plan.Duration())
	}
	if plan.Recovery != 15*time.Second {
		t.Errorf("recovery %s, want the reference's 15s", plan.Recovery)
	}
	// 160 req/s declared: 5 %, 5 % and 3 % of it.
	wantRates := map[string]float64{"acme": 8, "globex": 8, "initech": 4.8}
	for i, ph := range plan.Phases {
		if len(ph.Load) != 3 {
			t.Fatalf("phase %s has load %+v", ph.Name, ph.Load)
		}
		// spec.load's 1 s ramp is the day's: the first phase ramps, the others carry on.
		wantRamp := time.Duration(0)
		if i == 0 {
			wantRamp = time.Second
		}
		for _, l := range ph.Load {
			if diff := l.Rate - wantRates[l.Tenant]; diff > 1e-9 || diff < -1e-9 || l.Class != "interactive" || l.Ramp != wantRamp {
				t.Errorf("phase %s: load %+v, want rate %g and ramp %s", ph.Name, l, wantRates[l.Tenant], wantRamp)
			}
		}
	}
	for _, st := range plan.Steady.Tenants {
		if st.MaxP90TTFT != 500*time.Millisecond || st.MinServed != 1 {
			t.Errorf("steady %+v: want the interactive objective 500ms and every probe served", st)
		}
	}
	if plan.Steady.Probes != 3 || plan.Steady.Within != 10*time.Second {
		t.Errorf("steady %+v", plan.Steady)
	}
	evacuated := plan.Phases[2]
	byTenant := map[string]scenario.Expectation{}
	for _, e := range evacuated.Expect {
		byTenant[e.Tenant] = e
	}
	// acme may only be in eu-west and forbids hosted fallback: us-east and the provider are out.
	if got := byTenant["acme"].Forbidden; !slices.Equal(got, []string{"us-east", "hosted-stand-in"}) {
		t.Errorf("acme forbidden %v", got)
	}
	if got := byTenant["globex"]; got.Name != "globex served in us-east" || !slices.Equal(got.Forbidden, []string{"eu-west"}) || got.MinServed != 0.95 {
		t.Errorf("globex expectation %+v", got)
	}
	if len(plan.Faults) != 1 {
		t.Fatalf("faults %+v", plan.Faults)
	}
	ft := plan.Faults[0]
	want := scenario.Selector{Role: string(link.RoleRegion), Name: "eu-west", Mode: scenario.Mode{Kind: scenario.All}}
	if ft.Select != want || ft.Fault.Kind != fault.Down || ft.At != 10*time.Second || ft.For != 15*time.Second {
		t.Errorf("fault %+v", ft)
	}
	if plan.Abort.ErrorBudget["globex"] != 0.2 || len(plan.Abort.ErrorBudget) != 1 || !plan.Abort.OnInvariant || plan.Abort.Deadline != 2*time.Minute {
		t.Errorf("abort %+v", plan.Abort)
	}
}

// TestDefaultLoadFromCapacity: a file without load gets DefaultLoadShare of the declared capacity
// over every tenant and class, bounded by each tenant's quota; it follows the capacity.
func TestDefaultLoadFromCapacity(t *testing.T) {
	src := strings.Replace(evacuation(t), "  load:\n", "  xload:\n", 1)
	src = strings.Replace(src, "  xload:\n    - {tenant: acme, class: interactive, capacityShare: 0.05, ramp: 1s}\n    - {tenant: globex, class: interactive, capacityShare: 0.05, ramp: 1s}\n    - {tenant: initech, class: interactive, capacityShare: 0.03, ramp: 1s}\n", "", 1)
	f, err := Parse("gd.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tg := loadTarget(t, "reference.yaml")
	for _, rps := range []float64{160, 400} {
		tg.Capacity.RequestsPerSecond = rps
		plan, err := f.Plan(tg)
		if err != nil {
			t.Fatal(err)
		}
		load := plan.Phases[0].Load
		if len(load) != 5 { // acme and globex in two classes, initech in one
			t.Fatalf("default load %+v", load)
		}
		each := DefaultLoadShare * rps / 5
		for _, l := range load {
			want := each
			if l.Tenant == "initech" {
				want = min(each, defaultQuotaShare*600/60)
			}
			if l.Rate != want {
				t.Errorf("capacity %g: %s/%s rate %g, want %g", rps, l.Tenant, l.Class, l.Rate, want)
			}
		}
	}
}

// TestPlanMistakesNameLineAndField: what only the target can tell (tenants, classes, links,
// workers) is reported at the scenario's line, naming what the target does declare.
func TestPlanMistakesNameLineAndField(t *testing.T) {
	base := evacuation(t)
	tests := []struct{ name, from, to, target, want string }{
		{"unknown tenant", "{tenant: initech, allowed", "{tenant: initek, allowed", "reference.yaml", `spec.phases[2].expect[2].tenant: tenant "initek" is not declared in ../../fixtures/targets/reference.yaml (its tenants: acme, globex, initech)`},
		{"unknown class", "{tenant: acme, class: interactive, capacityShare", "{tenant: acme, class: realtime, capacityShare", "reference.yaml", `spec.load[0].class: traffic class "realtime" is not declared`},
		{"class the tenant may not use", "{tenant: initech, class: interactive, capacityShare", "{tenant: initech, class: batch, capacityShare", "reference.yaml", "spec.load[2].class: tenant initech may not use class batch (its classes: interactive)"},
		{"undeclared link", "select: {role: region, name: eu-west", "select: {role: region, name: ap-south", "reference.yaml", `spec.faults[0].select.name: ../../fixtures/targets/reference.yaml declares no region dependency named "ap-south" (its region links: eu-west, us-east)`},
		{"undeclared part", "select: {role: region, name: eu-west", "select: {role: region, name: eu-west, part: worker-z", "containers.yaml", `spec.faults[0].select.part: ../../fixtures/targets/containers.yaml declares no part "worker-z" behind its region links (parts: worker-a, worker-b)`},
		{"unknown worker", "select: {role: region, name: eu-west, mode: all}\n      kind: down", "select: {role: worker, name: worker-z}\n      kind: kill", "containers.yaml", `spec.faults[0].select.name: ../../fixtures/targets/containers.yaml names no worker "worker-z"`},
		{"budget of nobody", "errorBudget: {globex: 0.2}", "errorBudget: {globex: 0.2, umbrella: 0.1}", "reference.yaml", `spec.abort.errorBudget.umbrella: tenant "umbrella" is not declared`},
		{"unknown forbidden place", "policyKept: {forbidden: [eu-west]}", "policyKept: {forbidden: [mars]}", "reference.yaml", `spec.phases[2].expect[0].policyKept.forbidden[0]: "mars" is neither a region nor a hosted provider`},
		{"policy that forbids nothing", "{tenant: globex, minServed: 0.9}", "{tenant: globex, minServed: 0.9, policyKept: true}", "reference.yaml", "spec.phases[3].expect[1].policyKept: tenant globex's data policy allows every region"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			broken := strings.Replace(base, tc.from, tc.to, 1)
			if broken == base {
				t.Fatalf("%q not found in the fixture", tc.from)
			}
			f, err := Parse("gd.yaml", []byte(broken))
			if err != nil {
				t.Fatalf("the file alone should parse: %v", err)
			}
			_, err = f.Plan(loadTarget(t, tc.target))
			want := "gd.yaml:" + strconv.Itoa(lineOf(t, broken, tc.to)) + ": " + tc.want
			for _, p := range Problems(err) {
				if strings.HasPrefix(p.Error(), want) {
					return
				}
			}
			t.Fatalf("no mistake starts %q in\n%v", want, err)
		})
	}
}

// TestTargetChoiceAndValidate: a target file is found beside the scenario; Validate reports the
// target's own mistakes and the compile's, and nothing for a good pair.
func TestTargetChoiceAndValidate(t *testing.T) {
	dir := t.TempDir()
	ref, err := os.ReadFile("../../fixtures/targets/reference.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "target.yaml"), ref, 0o600); err != nil {
		t.Fatal(err)
	}
	gd := filepath.Join(dir, "gd.yaml")
	src := strings.Replace(evacuation(t), "target: {embedded: true}", "target: {file: target.yaml}", 1)
	if err := os.WriteFile(gd, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(gd)
	if err != nil {
		t.Fatal(err)
	}
	if c := f.TargetChoice(); c.Kind != TargetFile || c.Path != filepath.Join(dir, "target.yaml") {
		t.Fatalf("choice %+v", c)
	}
	if errs := Validate(gd, nil); errs != nil {
		t.Fatalf("valid pair: %v", errs)
	}
	if errs := Validate(gd, &TargetChoice{Kind: TargetContainers}); errs != nil {
		t.Fatalf("valid against the containers target: %v", errs)
	}
	if err := os.WriteFile(filepath.Join(dir, "target.yaml"), []byte(strings.Replace(string(ref), "deadline: 5s", "deadline: soon", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := Validate(gd, nil)
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "gd.yaml:17: spec.target:") {
		t.Fatalf("a broken target: %v", errs)
	}
	if err := os.Remove(filepath.Join(dir, "target.yaml")); err != nil {
		t.Fatal(err)
	}
	if errs := Validate(gd, nil); len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.target:") {
		t.Fatalf("a missing target: %v", errs)
	}
}
