package runtime

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// batchView is what the tests read of a batch object.
type batchView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Counts struct {
		Total, Completed, Failed int
	} `json:"request_counts"`
	Output []struct {
		CustomID string `json:"custom_id"`
		Response struct {
			StatusCode int    `json:"status_code"`
			Outcome    string `json:"outcome"`
			RequestID  string `json:"request_id"`
		} `json:"response"`
	} `json:"output"`
}

func batchBody(n, maxTokens int) map[string]any {
	var reqs []map[string]any
	for i := range n {
		reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("q%d", i), "body": chat(fmt.Sprintf("question %d", i), maxTokens)})
	}
	return map[string]any{"endpoint": "/v1/chat/completions", "requests": reqs}
}

// TestBatchJobsCompleteAsTheirTenant: a batch submitted over HTTP completes, each job once, with
// one evidence record per job under the submitting tenant; another tenant cannot see it.
func TestBatchJobsCompleteAsTheirTenant(t *testing.T) {
	cfg := devConfig(t)
	rt := startDurable(t, cfg, 30*time.Second)
	r := post(t, rt, "/v1/batches", acmeKey, batchBody(6, 3), map[string]string{"Idempotency-Key": "once"})
	expectOutcome(t, r, http.StatusOK, "completed", "none")
	var b batchView
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	again := post(t, rt, "/v1/batches", acmeKey, batchBody(6, 3), map[string]string{"Idempotency-Key": "once"})
	var b2 batchView
	_ = json.Unmarshal(again.body, &b2)
	if b2.ID != b.ID {
		t.Fatalf("idempotent resubmission made batch %s, want %s", b2.ID, b.ID)
	}
	deadline := time.Now().Add(20 * time.Second)
	for b.Status != "completed" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		g := get(t, rt, "/v1/batches/"+b.ID, acmeKey)
		if err := json.Unmarshal(g.body, &b); err != nil {
			t.Fatal(err)
		}
	}
	if b.Status != "completed" || b.Counts.Completed != 6 || len(b.Output) != 6 {
		t.Fatalf("batch %+v", b)
	}
	for _, o := range b.Output {
		// Evidence is chained moments after it is acknowledged: wait for each job's record.
		recs := evidenceOf(t, rt, acmeKey, o.Response.RequestID)
		for end := time.Now().Add(10 * time.Second); len(recs) == 0 && time.Now().Before(end); {
			time.Sleep(25 * time.Millisecond)
			recs = evidenceOf(t, rt, acmeKey, o.Response.RequestID)
		}
		if len(recs) != 1 || recs[0].Tenant != "acme" || recs[0].TrafficClass != "batch" {
			t.Fatalf("job %s evidence %+v", o.CustomID, recs)
		}
	}
	expectOutcome(t, get(t, rt, "/v1/batches/"+b.ID, globexKey), http.StatusNotFound, "rejected", "not_found")
	expectOutcome(t, get(t, rt, "/v1/batches/no-such-batch", acmeKey), http.StatusNotFound, "rejected", "not_found")
	// Both refused lookups are counted, each with its caller.
	metrics := string(get(t, rt, "/metrics", "").body)
	for _, series := range []string{
		`aruntime_requests_total{outcome="rejected",reason="not_found",tenant="acme",traffic_class=""} 1`,
		`aruntime_requests_total{outcome="rejected",reason="not_found",tenant="globex",traffic_class=""} 1`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}
