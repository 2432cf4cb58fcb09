package outcomehttp

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
)

// TestOperatorOnly: only the operator's credential reaches the endpoint; a tenant's is forbidden
// and none or an unknown one unauthenticated, each with the contract's outcome.
func TestOperatorOnly(t *testing.T) {
	dir := identity.NewDirectory(&config.Config{
		Operators: []config.Operator{{Name: "ops", Key: "op-key"}},
		Tenants:   []config.Tenant{{Name: "acme", Keys: []config.APIKey{{Key: "acme-key"}}}},
	})
	reached := 0
	h := OperatorOnly(dir, "do this", func(w http.ResponseWriter, _ *http.Request) { reached++; w.WriteHeader(http.StatusNoContent) })
	for _, c := range []struct {
		auth   string
		status int
		reason outcome.Reason
	}{
		{"Bearer op-key", http.StatusNoContent, ""},
		{"Bearer acme-key", http.StatusForbidden, outcome.ReasonForbidden},
		{"Bearer nobody", http.StatusUnauthorized, outcome.ReasonUnauthenticated},
		{"", http.StatusUnauthorized, outcome.ReasonUnauthenticated},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/v1/control/x", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		h(rec, req)
		if rec.Code != c.status || outcome.Reason(rec.Header().Get(outcome.HeaderReason)) != c.reason {
			t.Errorf("%q: %d %s, want %d %s", c.auth, rec.Code, rec.Header().Get(outcome.HeaderReason), c.status, c.reason)
		}
	}
	if reached != 1 {
		t.Errorf("the endpoint ran %d times, want once (the operator's call)", reached)
	}
}
