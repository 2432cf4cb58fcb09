package outcomehttp

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
)

// TestMuxAnswersGetTheContractsReasons: the 404 and 405 net/http's mux writes itself carry the
// reason whose status the contract gives, as every other unlabelled status does.
func TestMuxAnswersGetTheContractsReasons(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /thing", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := WithOutcome(mux, func() string { return "req-1" })
	for _, c := range []struct {
		method, path string
		status       int
		reason       outcome.Reason
	}{
		{http.MethodGet, "/thing", http.StatusNoContent, outcome.ReasonNone},
		{http.MethodGet, "/nothing", http.StatusNotFound, outcome.ReasonNotFound},
		{http.MethodPut, "/thing", http.StatusMethodNotAllowed, outcome.ReasonMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		got := outcome.Reason(rec.Header().Get(outcome.HeaderReason))
		if rec.Code != c.status || got != c.reason || (rec.Code >= 400 && outcome.StatusFor(got) != rec.Code) {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, rec.Code, got, c.status, c.reason)
		}
	}
	for code, want := range map[int]outcome.Reason{400: outcome.ReasonInvalidRequest, 502: outcome.ReasonInternal, 200: outcome.ReasonNone} {
		if got := ReasonOf(code); got != want {
			t.Errorf("ReasonOf(%d) = %s, want %s", code, got, want)
		}
	}
}

// SetKeys sets every pair, and a header added to afterwards keeps its neighbour's value: the
// values share one array, so each header's slice must be capped at its own.
func TestSetKeysSetsEachPairApart(t *testing.T) {
	h := http.Header{}
	SetKeys(h, KeyOutcome, "completed", KeyReason, "none", KeyServedBy, "region=eu")
	if h.Get(KeyOutcome) != "completed" || h.Get(KeyReason) != "none" || h.Get(KeyServedBy) != "region=eu" {
		t.Fatalf("headers %v", h)
	}
	h.Add(KeyOutcome, "shed")
	if got := h.Values(KeyOutcome); len(got) != 2 || got[1] != "shed" {
		t.Errorf("after Add: %s = %q", KeyOutcome, got)
	}
	if got := h.Values(KeyReason); len(got) != 1 || got[0] != "none" {
		t.Errorf("adding to %s changed %s to %q", KeyOutcome, KeyReason, got)
	}
}
