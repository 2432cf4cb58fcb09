package router

import "github.com/prometheus/client_golang/prometheus"

// truncating is an evidence store that drops its oldest records to stay within a bound (the
// in-memory development mode); a durable store is not one.
type truncating interface {
	// Dropped is how many records the bound dropped since the store was created.
	Dropped() uint64
	// TruncatedBefore is the Seq before which every record was dropped, 0 when none was.
	TruncatedBefore() uint64
}

// registerTruncation counts the records a truncating store dropped in
// aruntime_evidence_dropped_total, so an operator sees evidence being lost; a store that keeps
// everything registers nothing.
func registerTruncation(reg prometheus.Registerer, store EvidenceStore) error {
	t, ok := store.(truncating)
	if !ok {
		return nil
	}
	return reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "aruntime_evidence_dropped_total",
		Help: "Evidence records the in-memory store dropped, oldest first, to stay within evidence.memory_bytes (not durable).",
	}, func() float64 { return float64(t.Dropped()) }))
}
