package routing

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
)

// Only the operator may induce device events: a tenant's key (or the workers' own token) is
// refused before anything is forwarded, so no tenant can drain or pressure a shared device.
func TestDeviceHookRefusesEveryoneButTheOperator(t *testing.T) {
	p := offlinePool(t, 0, "w1")
	dir := identity.NewDirectory(&config.Config{
		Operators: []config.Operator{{Name: "ops", Key: "op-key"}},
		Tenants:   []config.Tenant{{Name: "acme", Keys: []config.APIKey{{Key: "tenant-key", Application: "app", User: "u"}}}},
		Router:    config.Router{WorkerToken: testToken},
	})
	hook := p.DeviceHook(dir)
	for _, tc := range []struct {
		key    string
		status int
		reason outcome.Reason
	}{
		{"", http.StatusUnauthorized, outcome.ReasonUnauthenticated},
		{"tenant-key", http.StatusForbidden, outcome.ReasonForbidden},
		{testToken, http.StatusForbidden, outcome.ReasonForbidden},
	} {
		req := httptest.NewRequest(http.MethodPost, "/v1/control/workers/w1/device", strings.NewReader(`{"kind":"xid","xid":79}`))
		req.SetPathValue("id", "w1")
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+tc.key)
		}
		rec := httptest.NewRecorder()
		hook(rec, req)
		if rec.Code != tc.status || rec.Header().Get(outcome.HeaderReason) != string(tc.reason) {
			t.Errorf("key %q: %d %s, want %d %s; body %s", tc.key, rec.Code, rec.Header().Get(outcome.HeaderReason), tc.status, tc.reason, rec.Body)
		}
	}
	for _, w := range p.Workers() {
		if !w.Healthy() {
			t.Errorf("worker %s was marked unhealthy by a refused device event", w.ID)
		}
	}
}
