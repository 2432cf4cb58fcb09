package worker

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/reference/worker/engine"
)

// StepMetrics is an engine.Observer that exports the batch size and step time of every engine
// step to Prometheus, so an operator can see continuous batching at work and saturation coming.
type StepMetrics struct {
	batch   prometheus.Observer
	prefill prometheus.Counter
	step    prometheus.Observer
	forget  func()
}

var _ engine.Observer = (*StepMetrics)(nil)

// NewStepMetrics returns the observer of worker id. Workers of one process share the vectors on
// reg, told apart by the worker label: the first worker registers them, the others reuse them.
func NewStepMetrics(reg prometheus.Registerer, id string) (*StepMetrics, error) {
	batch, err := register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "aruntime_worker_batch_size", Help: "Sequences in each engine step.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 11),
	}, []string{"worker"}))
	if err != nil {
		return nil, err
	}
	prefill, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "aruntime_worker_prefill_tokens_total", Help: "Prompt tokens computed, not found in the prefix cache.",
	}, []string{"worker"}))
	if err != nil {
		return nil, err
	}
	step, err := register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "aruntime_worker_step_seconds", Help: "Simulated duration of each engine step.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
	}, []string{"worker"}))
	if err != nil {
		return nil, err
	}
	return &StepMetrics{batch: batch.WithLabelValues(id), prefill: prefill.WithLabelValues(id), step: step.WithLabelValues(id),
		forget: func() { batch.DeleteLabelValues(id); prefill.DeleteLabelValues(id); step.DeleteLabelValues(id) }}, nil
}

// Forget drops worker id's series from the shared vectors: a worker stopped for good (an
// autoscaled instance removed) must not be exported for ever with its last values.
func (m *StepMetrics) Forget() { m.forget() }

// register registers c on reg, or returns the equal collector already registered there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// ObserveStep implements engine.Observer.
func (m *StepMetrics) ObserveStep(batchSize, prefillTokens int, d time.Duration) {
	m.batch.Observe(float64(batchSize))
	m.prefill.Add(float64(prefillTokens))
	m.step.Observe(d.Seconds())
}
