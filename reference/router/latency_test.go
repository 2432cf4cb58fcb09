package router

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
)

// TestTimedEmitterObservesEveryGapOnce: n tokens make one TTFT and n-1 inter-token observations,
// the slowest gap carrying the request's exemplar.
func TestTimedEmitterObservesEveryGapOnce(t *testing.T) {
	cfg := &config.Config{TrafficClasses: []config.TrafficClass{{Name: "interactive", QueueCapacity: 1, TTFTObjective: 500 * time.Millisecond, ITLObjective: 50 * time.Millisecond, Deadline: 5 * time.Second}},
		Tenants: []config.Tenant{{Name: "acme", Quota: config.Quota{RequestsPerMinute: 60, TokensPerMinute: 6000, MaxConcurrency: 1}}}}
	adm, err := admission.New(admissionConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg, cfg, adm)
	if err != nil {
		t.Fatal(err)
	}
	j := job{id: "req-1", traceID: "4bf92f3577b34da6a3ce929d0e0e4736", principal: identity.Principal{Tenant: "acme"}, class: cfg.TrafficClasses[0]}
	te := m.timed(streamed{}, j, time.Now())
	const tokens = 5
	for range tokens {
		if err := te.token("x"); err != nil {
			t.Fatal(err)
		}
	}
	te.observe()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	exemplars := map[string]int{}
	for _, f := range mfs {
		for _, mm := range f.GetMetric() {
			h := mm.GetHistogram()
			counts[f.GetName()] += h.GetSampleCount()
			for _, b := range h.GetBucket() {
				for _, l := range b.GetExemplar().GetLabel() {
					if l.GetName() == "request_id" && l.GetValue() == j.id {
						exemplars[f.GetName()]++
					}
				}
			}
		}
	}
	if got := counts["aruntime_inter_token_latency_seconds"]; got != tokens-1 {
		t.Errorf("inter-token observations %d, want %d", got, tokens-1)
	}
	if got := counts["aruntime_time_to_first_token_seconds"]; got != 1 {
		t.Errorf("TTFT observations %d, want 1", got)
	}
	for _, name := range []string{"aruntime_inter_token_latency_seconds", "aruntime_time_to_first_token_seconds"} {
		if exemplars[name] != 1 {
			t.Errorf("%s has %d exemplars of %s, want 1", name, exemplars[name], j.id)
		}
	}
}

func TestBucketsIncludeEveryObjective(t *testing.T) {
	cfg := &config.Config{TrafficClasses: []config.TrafficClass{{TTFTObjective: 700 * time.Millisecond}, {TTFTObjective: 500 * time.Millisecond}}}
	got := withObjectives(ttftBuckets, cfg, func(k config.TrafficClass) time.Duration { return k.TTFTObjective })
	want := map[float64]bool{0.7: false, 0.5: false}
	for i, b := range got {
		if i > 0 && b <= got[i-1] {
			t.Fatalf("buckets %v are not strictly increasing", got)
		}
		if _, ok := want[b]; ok {
			want[b] = true
		}
	}
	for b, seen := range want {
		if !seen {
			t.Errorf("buckets %v lack the objective %v", got, b)
		}
	}
}

func TestExemplarFitsItsLimit(t *testing.T) {
	trace := strings.Repeat("a", 32)
	if ex := exemplar(job{id: "req-1", traceID: trace}); ex["request_id"] != "req-1" || ex["trace_id"] != trace {
		t.Errorf("exemplar %v, want request and trace id", ex)
	}
	long := strings.Repeat("b", 100)
	if ex := exemplar(job{id: long, traceID: trace}); ex["request_id"] != long || ex["trace_id"] != "" {
		t.Errorf("exemplar %v, want the request id alone when both do not fit", ex)
	}
	if ex := exemplar(job{id: strings.Repeat("c", 200)}); ex != nil {
		t.Errorf("exemplar %v for a request id over the limit, want none", ex)
	}
	// Observing with each must not panic.
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h"})
	for _, id := range []string{"req-1", long, strings.Repeat("c", 200)} {
		observeWithExemplar(h, time.Millisecond, exemplar(job{id: id, traceID: trace}))
	}
}
