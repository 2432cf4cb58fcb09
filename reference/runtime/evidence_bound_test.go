package runtime

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/reference/config"
)

// TestInMemoryEvidenceSaysItWasTruncated: past evidence.memory_bytes the in-memory store drops
// its oldest records, and the endpoint and the metrics say so.
func TestInMemoryEvidenceSaysItWasTruncated(t *testing.T) {
	// A bound of one byte keeps only the newest record (a parsed configuration refuses it, which
	// is why it is set here directly).
	rt := start(t, slowConfig(t, func(c *config.Config) { c.Evidence.MemoryBytes = 1 }))
	const requests = 3
	for range requests {
		expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, chat("hi", 1), nil), http.StatusOK, "completed", "none")
	}
	var list discovery.EvidenceList
	r := get(t, rt, "/v1/aruntime/evidence?since=0", "dev-operator-key")
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if len(list.Records) != 1 || list.TruncatedBefore != list.Records[0].Seq || list.TruncatedBefore < requests {
		t.Fatalf("%d records, truncated before %d: %s", len(list.Records), list.TruncatedBefore, r.body)
	}
	m := get(t, rt, "/metrics", "")
	if !strings.Contains(string(m.body), "aruntime_evidence_dropped_total") {
		t.Fatal("no aruntime_evidence_dropped_total metric")
	}
}
