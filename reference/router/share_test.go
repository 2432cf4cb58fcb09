package router

import (
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/admission"
)

// TestZeroShareIsNotAWorkerFault: a router whose share of the declared slots rounds to 0 (1 slot,
// 2 routers, router 2) is not ready, for capacity, saying it is its share; a router with no
// slot declared at all reports no healthy worker.
func TestZeroShareIsNotAWorkerFault(t *testing.T) {
	adm, err := admission.New(admission.Config{Capacity: 1,
		Classes: []admission.ClassSpec{{Name: "interactive", Priority: 1, QueueCapacity: 4}},
		Tenants: []admission.TenantSpec{{Name: "acme", RequestsPerMinute: 60, TokensPerMinute: 6000, MaxConcurrency: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	r := &Router{adm: adm, health: newHealth()}
	if err := r.SetShare(admission.Share{Index: 1, Of: 2}); err != nil {
		t.Fatal(err)
	}
	end := r.notReady()
	if end.reason != outcome.ReasonCapacity || !strings.Contains(end.message, "share of the capacity is 0 of 1 slots (router 2 of 2)") {
		t.Fatalf("router 2 of 2 with a share of 0 of 1 slot: %s %q, want capacity naming its share", end.reason, end.message)
	}
	adm.SetCapacity(0)
	if end := r.notReady(); end.reason != outcome.ReasonNoHealthyWorker {
		t.Fatalf("no slot declared: %s %q, want no_healthy_worker", end.reason, end.message)
	}
}
