package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestLatencyHistogramsCarryTheRequest: after one streamed request, the TTFT, inter-token and
// request latency histograms hold a sample under its tenant and class, with an exemplar naming
// the request, and the OpenMetrics exposition of /metrics shows it.
func TestLatencyHistogramsCarryTheRequest(t *testing.T) {
	cfg := devConfig(t)
	rt := start(t, cfg)
	body := chat("time me", 6)
	body["stream"] = true
	r := post(t, rt, "/v1/chat/completions", acmeKey, body, nil)
	expectOutcome(t, r, http.StatusOK, "completed", "none")
	id := r.header.Get("X-Request-Id")

	// Metrics are counted after the response went out: wait for the request's latency sample.
	families := waitForFamilies(t, rt, "aruntime_request_latency_seconds")
	for _, name := range []string{"aruntime_time_to_first_token_seconds", "aruntime_inter_token_latency_seconds", "aruntime_request_latency_seconds"} {
		h := histogramOf(families[name], map[string]string{"tenant": "acme", "traffic_class": "interactive"})
		if h == nil || h.GetSampleCount() == 0 {
			t.Errorf("%s{tenant=acme,traffic_class=interactive} has no sample", name)
			continue
		}
		if !hasExemplar(h, "request_id", id) {
			t.Errorf("%s has no exemplar with request_id %s", name, id)
		}
	}

	req, err := http.NewRequest(http.MethodGet, "http://"+rt.Topology().HTTP+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	m := do(t, req)
	if !strings.Contains(string(m.body), `# {request_id="`+id+`"`) {
		t.Errorf("the OpenMetrics exposition (%s) shows no exemplar of %s", m.header.Get("Content-Type"), id)
	}
	checkDashboard(t, families)
}

// checkDashboard fails for every PromQL expression of the Grafana dashboard that names a metric
// the runtime does not export, or names none.
func checkDashboard(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/grafana/aruntime.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("deploy/grafana/aruntime.json: %v", err)
	}
	exprs := promQL(dash, nil)
	if len(exprs) < 7 {
		t.Fatalf("the dashboard has %d PromQL expressions, want one per panel at least", len(exprs))
	}
	metric := regexp.MustCompile(`\baruntime_[a-z0-9_]+`)
	for _, e := range exprs {
		names := metric.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("dashboard expression names no aruntime metric: %s", e)
		}
		for _, n := range names {
			base := n
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if f, ok := families[strings.TrimSuffix(n, suffix)]; ok && f.GetType() == dto.MetricType_HISTOGRAM {
					base = strings.TrimSuffix(n, suffix)
				}
			}
			if _, ok := families[base]; !ok {
				t.Errorf("dashboard expression uses %s, which the runtime does not export: %s", n, e)
			}
		}
	}
}

// promQL collects the dashboard's PromQL: every "expr", and the templating queries' definitions.
func promQL(v any, out []string) []string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
				out = append(out, s)
				continue
			}
			out = promQL(x, out)
		}
	case []any:
		for _, x := range v {
			out = promQL(x, out)
		}
	}
	return out
}

// waitForFamilies gathers the runtime's metrics until name has a sample.
func waitForFamilies(t *testing.T, rt *Runtime, name string) map[string]*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		mfs, err := rt.registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*dto.MetricFamily{}
		for _, f := range mfs {
			out[f.GetName()] = f
		}
		if f, ok := out[name]; ok && len(f.GetMetric()) > 0 {
			return out
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("no %s sample after the request", name)
		}
	}
}

// histogramOf is f's histogram whose labels include want.
func histogramOf(f *dto.MetricFamily, want map[string]string) *dto.Histogram {
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			return m.GetHistogram()
		}
	}
	return nil
}

// hasExemplar reports whether a bucket of h has an exemplar labelled key=value.
func hasExemplar(h *dto.Histogram, key, value string) bool {
	for _, b := range h.GetBucket() {
		for _, l := range b.GetExemplar().GetLabel() {
			if l.GetName() == key && l.GetValue() == value {
				return true
			}
		}
	}
	return false
}
