package router

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/config"
)

// metrics are the router's Prometheus series: outcomes by class, reason and tenant, so a
// dashboard shows refusals apart from failures; queue depth per traffic class, so an operator sees
// admission working before anything times out.
type metrics struct {
	outcomes       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	queueWait      *prometheus.HistogramVec
	tokens         *prometheus.CounterVec
	evidenceErrors prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, cfg *config.Config, adm *admission.Controller) (*metrics, error) {
	m := &metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aruntime_requests_total", Help: "Requests by outcome class, reason, tenant and traffic class.",
		}, []string{"outcome", "reason", "tenant", "traffic_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aruntime_request_duration_seconds", Help: "Time from arrival to the end of the response, by outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"outcome"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aruntime_queue_wait_seconds", Help: "Time admitted requests waited in their class's queue.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"traffic_class"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aruntime_tokens_total", Help: "Tokens by tenant and kind (prompt, completion, cached).",
		}, []string{"tenant", "kind"}),
		evidenceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "aruntime_evidence_write_errors_total", Help: "Evidence records that could not be written.",
		}),
	}
	collectors := []prometheus.Collector{m.outcomes, m.duration, m.queueWait, m.tokens, m.evidenceErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aruntime_in_flight", Help: "Admitted requests holding a slot."},
			func() float64 { return float64(adm.Snapshot().InFlight) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aruntime_capacity_slots", Help: "Slots offered by healthy workers."},
			func() float64 { return float64(adm.Snapshot().Capacity) }),
	}
	for _, k := range cfg.TrafficClasses {
		name := k.Name
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "aruntime_queue_depth", Help: "Requests waiting in a traffic class's bounded queue.",
			ConstLabels: prometheus.Labels{"traffic_class": name},
		}, func() float64 { return float64(adm.Snapshot().Queued[name]) }))
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe counts one ended request.
func (m *metrics) observe(tenant, class string, end ending, elapsed time.Duration) {
	m.outcomes.WithLabelValues(string(end.class), string(end.reason), tenant, class).Inc()
	m.duration.WithLabelValues(string(end.class)).Observe(elapsed.Seconds())
	if tenant != "" && end.usage.Prompt > 0 {
		m.tokens.WithLabelValues(tenant, "prompt").Add(float64(end.usage.Prompt))
		m.tokens.WithLabelValues(tenant, "completion").Add(float64(end.usage.Completion))
		m.tokens.WithLabelValues(tenant, "cached").Add(float64(end.usage.Cached))
	}
}
