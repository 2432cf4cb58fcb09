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
	latency        *prometheus.HistogramVec
	ttft           *prometheus.HistogramVec
	itl            *prometheus.HistogramVec
	objectives     *prometheus.GaugeVec
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
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aruntime_request_latency_seconds", Help: "Time from arrival to the end of the response, by tenant and traffic class; exemplars name the request.",
			Buckets: withObjectives(latencyBuckets, cfg, func(k config.TrafficClass) time.Duration { return k.Deadline }),
		}, []string{"tenant", "traffic_class"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aruntime_time_to_first_token_seconds", Help: "Time from arrival to the first token, by tenant and traffic class; exemplars name the request.",
			Buckets: withObjectives(ttftBuckets, cfg, func(k config.TrafficClass) time.Duration { return k.TTFTObjective }),
		}, []string{"tenant", "traffic_class"}),
		itl: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "aruntime_inter_token_latency_seconds", Help: "Time between consecutive tokens of a response, by tenant and traffic class; exemplars name the request of each one's slowest gap.",
			Buckets: withObjectives(itlBuckets, cfg, func(k config.TrafficClass) time.Duration { return k.ITLObjective }),
		}, []string{"tenant", "traffic_class"}),
		objectives: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "aruntime_traffic_class_objective_seconds", Help: "Each traffic class's declared objectives (ttft, itl) and deadline, to draw against the histograms.",
		}, []string{"traffic_class", "objective"}),
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
	for _, k := range cfg.TrafficClasses {
		m.objectives.WithLabelValues(k.Name, "ttft").Set(k.TTFTObjective.Seconds())
		m.objectives.WithLabelValues(k.Name, "itl").Set(k.ITLObjective.Seconds())
		m.objectives.WithLabelValues(k.Name, "deadline").Set(k.Deadline.Seconds())
	}
	collectors := []prometheus.Collector{m.outcomes, m.duration, m.latency, m.ttft, m.itl, m.objectives, m.queueWait, m.tokens, m.evidenceErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aruntime_in_flight", Help: "Admitted requests holding a slot."},
			func() float64 { return float64(adm.Snapshot().InFlight) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aruntime_capacity_slots",
			Help: "Slots this router admits into: those healthy workers offer, or under router.limits split this router's part of them (aruntime_capacity_declared_slots)."},
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

// observe counts one ended request; ex names it in the latency histogram's exemplar.
func (m *metrics) observe(tenant, class string, end ending, elapsed time.Duration, ex prometheus.Labels) {
	m.outcomes.WithLabelValues(string(end.class), string(end.reason), tenant, class).Inc()
	m.duration.WithLabelValues(string(end.class)).Observe(elapsed.Seconds())
	observeWithExemplar(m.latency.WithLabelValues(tenant, class), elapsed, ex)
	if tenant != "" && end.usage.Prompt > 0 {
		m.tokens.WithLabelValues(tenant, "prompt").Add(float64(end.usage.Prompt))
		m.tokens.WithLabelValues(tenant, "completion").Add(float64(end.usage.Completion))
		m.tokens.WithLabelValues(tenant, "cached").Add(float64(end.usage.Cached))
	}
}
