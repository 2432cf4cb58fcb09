package plan

import (
	"os"
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/targets"
)

// plainRuntime is what a plain OpenAI-compatible runtime can honestly declare: two keys, one
// class without deadline or objectives, no quotas, pins, data policy, prices, locations or
// placement, and features it claims beyond what those support.
const plainRuntime = `apiVersion: arcert.dev/v1
kind: RuntimeDecisionRecord
implementation: ollama
endpoints: {http: "http://127.0.0.1:11434"}
features: [outcomes, streaming, tenant-binding, admission, traffic-classes, quotas, versions, regions, identity, rdr]
contract: {outcomes: inferred}
models:
  - {name: tiny, context_length: 2048}
capacity: {concurrency: 2, requests_per_second: 4, probe_max_tokens: 8}
traffic_classes:
  - {name: default, queue_bound: 2}
tenants:
  - {name: a, key: ka, traffic_classes: [default]}
  - {name: b, key: kb, traffic_classes: [default]}
`

func parse(t *testing.T, name string, data []byte) *target.Target {
	t.Helper()
	tg, err := target.Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func byID(items []Item) map[string]Item {
	out := map[string]Item{}
	for _, it := range items {
		out[it.ID] = it
	}
	return out
}

// The reference runtime passes every requirement it declares today: its plan must promise a run
// for each, or the plan disagrees with the suites' own gates.
func TestReferenceTargetRunsEveryDeclaredRequirement(t *testing.T) {
	tg := parse(t, targets.ReferenceName, targets.ReferenceYAML)
	for _, it := range Of(catalog.MustLoad(), tg) {
		declared := tg.Declares(it.Feature)
		if declared && it.Status != Runs {
			t.Errorf("%s: %s (%s), want runs", it.ID, it.Status, it.Why)
		}
		if !declared && it.Status != NotSupported {
			t.Errorf("%s of undeclared feature %s: %s", it.ID, it.Feature, it.Status)
		}
	}
	if ex := Excluded(catalog.MustLoad(), tg); len(ex) != 0 {
		t.Errorf("the reference excludes %v", ex)
	}
}

// The shipped example carries every core requirement; with the load-test tenant's quota cut to
// a gateway's everyday one, its tenants cannot carry the admission overload: the plan says so
// before any request, with the coupling spelled out.
func TestExampleTargetNamesTheAdmissionCoupling(t *testing.T) {
	tg, err := target.Load("../../fixtures/targets/example-openai-compatible.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if adm := byID(Of(catalog.MustLoad(), tg))["ADM-1"]; adm.Status != Runs {
		t.Errorf("the example's ADM-1: %s: %s", adm.Status, adm.Why)
	}
	small := strings.ReplaceAll(string(mustRead(t)), "quota: {requests_per_minute: 20000, tokens_per_minute: 60000000, max_concurrency: 1300}",
		"quota: {requests_per_minute: 600, tokens_per_minute: 400000, max_concurrency: 16}")
	adm := byID(Of(catalog.MustLoad(), parse(t, "small", []byte(small))))["ADM-1"]
	if adm.Status != Unjudgeable || !strings.Contains(adm.Why, "max_concurrency must sum to at least concurrency + queue bounds (1216)") {
		t.Errorf("with everyday quotas, ADM-1: %s: %s", adm.Status, adm.Why)
	}
}

func mustRead(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/targets/example-openai-compatible.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPlainRuntimeConsequences(t *testing.T) {
	tg := parse(t, "plain.yaml", []byte(plainRuntime))
	items := byID(Of(catalog.MustLoad(), tg))
	want := map[string]struct {
		status Status
		why    string
	}{
		"OUT-1": {Runs, ""},
		"OUT-2": {NotSupported, "class default states no deadline"},
		"OUT-3": {NotSupported, "a contract requirement"},
		"FBK-1": {NotSupported, "a contract requirement"},
		"QUO-1": {NotSupported, "tenant a states no full quota"},
		"QUO-2": {NotSupported, "tenant a states no full quota"},
		"VER-1": {NotSupported, "pins.runtime_version and pins.policy_version"},
		"OUT-8": {NotSupported, "tenant a states no data_policy"},
		"ADM-1": {Runs, "default deadline of 1m0s"},
		"ADM-4": {Unjudgeable, "needs two traffic classes"},
		"ADM-7": {NotSupported, "class default states no ttft_objective"},
		"ADM-8": {NotSupported, "class default states no ttft_objective"},
		"ID-1":  {NotSupported, "reads the runtime's evidence"},
		"TEN-1": {NotSupported, "reads the runtime's evidence"},
		"ID-2":  {Unjudgeable, "workload.key"},
		"QUO-4": {FailsAsDeclared, "tenant a states no request or token quota"},
		"DOC-1": {FailsAsDeclared, "no locations section"},
		"OUT-5": {Runs, "states no max_output_tokens"},
		"TEN-2": {NotSupported, "feature prefix-cache is not declared"},
	}
	for id, w := range want {
		got := items[id]
		if got.Status != w.status || !strings.Contains(got.Why, w.why) || (w.why == "" && got.Why != "") {
			t.Errorf("%s: %s (%q), want %s (%q)", id, got.Status, got.Why, w.status, w.why)
		}
	}
	ex := Excluded(catalog.MustLoad(), tg)
	for _, id := range []string{"OUT-2", "QUO-1", "QUO-2", "QUO-3", "VER-1", "VER-2", "ADM-7", "ADM-8", "OUT-8"} {
		if ex[id] == "" {
			t.Errorf("%s is not excluded from the run", id)
		}
	}
	for _, id := range []string{"TEN-2", "ID-2", "ADM-1", "QUO-4"} {
		if _, ok := ex[id]; ok {
			t.Errorf("%s is excluded, but its feature is undeclared or its specs judge it", id)
		}
	}
	if s := Summary(Of(catalog.MustLoad(), tg)); !strings.Contains(s, "NOT_SUPPORTED") || !strings.Contains(s, "unjudgeable") {
		t.Errorf("summary %q", s)
	}
}

// A quota near the declared capacity cannot be told from load shedding: unjudgeable, with why.
func TestQuotaNearCapacityIsUnjudgeable(t *testing.T) {
	tg := parse(t, "q.yaml", []byte(strings.ReplaceAll(strings.ReplaceAll(plainRuntime,
		"{name: a, key: ka,", "{name: a, key: ka, quota: {requests_per_minute: 1000000, tokens_per_minute: 1000000000, max_concurrency: 8},"),
		"{name: b, key: kb,", "{name: b, key: kb, quota: {requests_per_minute: 1000000, tokens_per_minute: 1000000000, max_concurrency: 8},")))
	q := byID(Of(catalog.MustLoad(), tg))["QUO-1"]
	if q.Status != Unjudgeable || !strings.Contains(q.Why, "too near the declared capacity") {
		t.Errorf("QUO-1: %s: %s", q.Status, q.Why)
	}
}

// A requirement judged through a feature the target does not declare is NOT_SUPPORTED with that
// reason, and the combination is a conflict validate and certify refuse; declaring the other
// feature resolves both.
func TestJudgedWithAnUndeclaredFeature(t *testing.T) {
	c := catalog.MustLoad()
	tg := parse(t, "plain.yaml", []byte(plainRuntime))
	ten1 := byID(Of(c, tg))["TEN-1"]
	if ten1.Status != NotSupported || !strings.Contains(ten1.Why, "evidence") {
		t.Fatalf("TEN-1 without evidence: %s (%s)", ten1.Status, ten1.Why)
	}
	if _, ok := Excluded(c, tg)["TEN-1"]; !ok {
		t.Error("TEN-1 is not excluded from the run")
	}
	conflicts := strings.Join(Conflicts(c, tg), "\n")
	for _, want := range []string{"tenant-binding is declared, but TEN-1", "identity is declared, but ID-1", "traffic-classes is declared, but ADM-5"} {
		if !strings.Contains(conflicts, want) {
			t.Errorf("conflicts lack %q:\n%s", want, conflicts)
		}
	}
	tg.Features = append(tg.Features, "evidence")
	if got := Conflicts(c, tg); len(got) != 0 {
		t.Errorf("with evidence declared: %v", got)
	}
	if st := byID(Of(c, tg))["TEN-1"].Status; st == NotSupported {
		t.Errorf("TEN-1 with evidence declared is still %s", st)
	}
}
