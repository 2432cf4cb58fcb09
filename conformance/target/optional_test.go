package target

import (
	"strings"
	"testing"
)

// minimal is a record with only what a plain OpenAI-compatible runtime knows.
const minimal = `apiVersion: arcert.dev/v1
kind: RuntimeDecisionRecord
implementation: ollama
endpoints: {http: "http://127.0.0.1:11434"}
features: [outcomes]
models:
  - {name: tiny, context_length: 2048}
capacity: {concurrency: 1, requests_per_second: 2, probe_max_tokens: 8}
traffic_classes:
  - {name: default, queue_bound: 0}
  - {name: slow, queue_bound: 0, deadline: 90s}
tenants:
  - {name: a, key: ka, traffic_classes: [default]}
  - {name: b, key: kb, traffic_classes: [default], quota: {requests_per_minute: 60}}
`

func TestMinimalRecordParsesWithStatedDefaults(t *testing.T) {
	tg, err := Parse("minimal.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	def, slow := tg.TrafficClasses[0], tg.TrafficClasses[1]
	if def.Deadline != DefaultDeadline || def.DeadlineStated() {
		t.Errorf("class default: deadline %s, stated %v; want the default, not stated", def.Deadline, def.DeadlineStated())
	}
	if slow.Deadline.Seconds() != 90 || !slow.DeadlineStated() {
		t.Errorf("class slow: deadline %s, stated %v", slow.Deadline, slow.DeadlineStated())
	}
	m := tg.Models[0]
	if m.MaxOutputTokens != 2048 || m.MaxOutputStated() {
		t.Errorf("model: max output %d, stated %v; want the context length, not stated", m.MaxOutputTokens, m.MaxOutputStated())
	}
	a, b := tg.Tenants[0].Quota, tg.Tenants[1].Quota
	if a.Stated() || a.Requests() != Unlimited || a.Tokens() != Unlimited || a.Concurrency() != Unlimited {
		t.Errorf("tenant a's unstated quota reads %+v", a)
	}
	if b.Stated() || b.Requests() != 60 || b.Concurrency() != Unlimited {
		t.Errorf("tenant b's partial quota reads requests %d, concurrency %d", b.Requests(), b.Concurrency())
	}
	if !tg.Tenants[0].DataPolicy.Allows("anywhere") || tg.Pins.Stated() {
		t.Error("an unstated data policy must allow any region, and no pins are stated")
	}
	restricted := DataPolicy{AllowedRegions: []string{"eu"}}
	if restricted.Allows("us") || !restricted.Allows("eu") {
		t.Error("a stated data policy allows only its regions")
	}
}

// Optional fields are still checked when given.
func TestOptionalFieldsAreCheckedWhenGiven(t *testing.T) {
	bad := strings.Replace(minimal, "quota: {requests_per_minute: 60}", "quota: {requests_per_minute: 0}", 1)
	if _, err := Parse("bad.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "tenants[1].quota.requests_per_minute") {
		t.Errorf("a zero quota given explicitly: %v", err)
	}
	bad = strings.Replace(minimal, "context_length: 2048}", "context_length: 2048, max_output_tokens: 4096}", 1)
	if _, err := Parse("bad.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "max_output_tokens") {
		t.Errorf("max_output_tokens over the context: %v", err)
	}
}
