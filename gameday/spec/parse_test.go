package spec

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func evacuation(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/gamedays/region-evacuation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lineOf is the 1-based line of the first occurrence of s in text.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	at := strings.Index(text, s)
	if at < 0 {
		t.Fatalf("%q not found", s)
	}
	return strings.Count(text[:at], "\n") + 1
}

// TestMistakesNameLineAndField breaks the region-evacuation scenario one way at a time; each
// error names the file, the line of the mistake, the field and what is wrong.
func TestMistakesNameLineAndField(t *testing.T) {
	base := evacuation(t)
	tests := []struct{ name, from, to, want, at string }{
		{"unknown field", "    probes: 3", "    probez: 3", "spec.steadyState.probez: unknown field", ""},
		{"wrong type", "    probes: 3", "    probes: three", "spec.steadyState.probes: expected an integer, got a string", ""},
		{"bad duration", "duration: 13s", "duration: 13 seconds", `spec.phases[2].duration: expected a duration such as 500ms, 15s or 1m30s, got "13 seconds"`, ""},
		{"negative duration", "duration: 13s", "duration: -13s", "spec.phases[2].duration: expected a duration", ""},
		{"unknown fault kind", "kind: down", "kind: unplug", "spec.faults[0].kind: value must be one of 'down'", ""},
		{"missing parameter", "kind: down", "kind: latency", "spec.faults[0]: missing property 'latency'", "- name: eu-west down"},
		{"parameter of another kind", "kind: down", "kind: down\n      latency: 100ms", "spec.faults[0].latency: kind down takes no latency (it takes no parameters)", "latency: 100ms"},
		{"mode syntax", "mode: all}", "mode: fixed:0}", "spec.faults[0].select.mode: expected a mode: one, all, fixed:N", ""},
		{"window past the phases", "for: 15s", "for: 45s", "spec.faults[0].for: the fault holds until 55s, past the end of the phases at 35s", ""},
		{"zero-length fault", "for: 15s", "for: 0s", "spec.faults[0].for: must be longer than 0s", ""},
		{"negative share", "capacityShare: 0.05, ramp", "capacityShare: -0.05, ramp", "spec.load[0].capacityShare", ""},
		{"rate and share", "capacityShare: 0.05, ramp", "rate: 3, capacityShare: 0.05, ramp", "spec.load[0]: give rate or capacityShare, not both", ""},
		{"outcome of another class", "{tenant: acme, minServed: 0.95}", "{tenant: acme, minServed: 0.95, allowed: [completed/capacity]}", "spec.phases[0].expect[0].allowed[0]: reason capacity belongs to class shed, not completed", ""},
		{"unknown outcome", "{tenant: acme, minServed: 0.95}", "{tenant: acme, minServed: 0.95, allowed: [finished]}", `spec.phases[0].expect[0].allowed[0]: "finished" is not an outcome class`, ""},
		{"share above one", "{tenant: acme, minServed: 0.95}", "{tenant: acme, minServed: 95}", "spec.phases[0].expect[0].minServed", ""},
		{"expectation judging nothing", "{tenant: acme, minServed: 0.95}", "{tenant: acme}", "spec.phases[0].expect[0]: judges nothing", ""},
		{"policy of nobody", "{name: acme stays in eu-west, tenant: acme, policyKept: true, minSamples: 5}", "{name: acme stays in eu-west, policyKept: true, minSamples: 5}", "spec.phases[1].expect[0].policyKept: true keeps one tenant's data policy", ""},
		{"phase named twice", "name: detection", "name: steady", `spec.phases[1].name: phase "steady" is named twice`, "name: steady\n      duration: 2s"},
		{"deadline too short", "deadline: 2m", "deadline: 20s", "spec.abort.deadline: 20s is shorter than the phases' 35s", ""},
		{"two targets", "target: {embedded: true}", "target: {embedded: true, containers: true}", "spec.target: give exactly one of file, embedded or containers", ""},
		{"command and kind", "kind: down", "kind: down\n      command: {run: 'true', rollback: 'true'}", "spec.faults[0].command: a command fault runs the user's script and takes no kind or select", "command: {run"},
		{"node kind on a link", "kind: down", "kind: kill", "spec.faults[0].select.role: kill is a node fault; role region is a dependency link", "select: {role: region"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			broken := strings.Replace(base, tc.from, tc.to, 1)
			if broken == base {
				t.Fatalf("%q not found in the fixture", tc.from)
			}
			_, err := Parse("gd.yaml", []byte(broken))
			if err == nil {
				t.Fatal("broken scenario accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%v is not ErrInvalid", err)
			}
			at := tc.at
			if at == "" {
				at = tc.to
			}
			want := "gd.yaml:" + strconv.Itoa(lineOf(t, broken, at)) + ": " + tc.want
			for _, p := range Problems(err) {
				if strings.HasPrefix(p.Error(), want) {
					return
				}
			}
			t.Fatalf("no mistake starts %q in\n%v", want, err)
		})
	}
}

// TestEveryMistakeAtOnce: independent mistakes the schema accepts are all reported in one pass,
// in line order.
func TestEveryMistakeAtOnce(t *testing.T) {
	broken := strings.NewReplacer(
		"for: 15s", "for: 45s",
		"kind: down", "kind: down\n      jitter: 5ms",
		"name: detection", "name: steady",
	).Replace(evacuation(t))
	_, err := Parse("gd.yaml", []byte(broken))
	probs := Problems(err)
	if len(probs) != 3 {
		t.Fatalf("want 3 mistakes, got %d: %v", len(probs), err)
	}
	for i := 1; i < len(probs); i++ {
		if probs[i].Line < probs[i-1].Line {
			t.Fatalf("mistakes out of line order: %v", err)
		}
	}
}

func TestMalformedAndEmpty(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("apiVersion: arcert.dev/v1\nkind: [\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml:") {
		t.Fatalf("err %v", err)
	}
	for _, data := range []string{"", "# only a comment\n", "---\n"} {
		if _, err := Parse("empty.yaml", []byte(data)); err == nil || !errors.Is(err, ErrInvalid) {
			t.Fatalf("%q: err %v", data, err)
		}
	}
	if _, err := Parse("big.yaml", make([]byte, maxFileBytes+1)); err == nil {
		t.Fatal("an oversized file accepted")
	}
}

func TestParseMode(t *testing.T) {
	good := map[string]string{"": "all", "all": "all", "one": "one", "fixed:2": "fixed", "percent:50": "percent", "percent:100": "percent"}
	for in, want := range good {
		m, err := ParseMode(in)
		if err != nil || string(m.Kind) != want {
			t.Errorf("ParseMode(%q) = %+v, %v; want %s", in, m, err, want)
		}
	}
	for _, in := range []string{"some", "fixed:0", "fixed:x", "percent:0", "percent:101", "fixed:"} {
		if _, err := ParseMode(in); err == nil {
			t.Errorf("ParseMode(%q) accepted", in)
		}
	}
}
