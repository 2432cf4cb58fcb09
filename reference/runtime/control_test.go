package runtime

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestControlPlaneSeededAndOperatorOnly: the operator API answers on the router's port with the
// configuration's pin seeded, and refuses a tenant.
func TestControlPlaneSeededAndOperatorOnly(t *testing.T) {
	cfg := devConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg.Workers = cfg.Workers[:1]
	rt, err := Start(ctx, cfg, durableOptions(t, cfg, "worker-a"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })
	r := get(t, rt, "/v1/control/models/"+model, "dev-operator-key")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), cfg.Models[0].ArtifactDigest) {
		t.Fatalf("operator read: %d %s", r.status, r.body)
	}
	var entry map[string]any
	if err := json.Unmarshal(r.body, &entry); err != nil {
		t.Fatal(err)
	}
	expectOutcome(t, get(t, rt, "/v1/control/models/"+model, acmeKey), http.StatusForbidden, "rejected", "forbidden")
}
