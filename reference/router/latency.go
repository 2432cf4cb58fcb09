package router

import (
	"slices"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"

	"github.com/aruntime/arcert/reference/config"
)

// Histogram buckets, in seconds. Each histogram also gets a bucket at every class's declared
// objective (see withObjectives), so the share of requests within an objective is exact, not
// interpolated: the dev classes declare TTFT 500ms and 5s, ITL 50ms and 200ms, deadlines 5s and
// 60s, and these bracket them with room on either side.
var (
	ttftBuckets    = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	itlBuckets     = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5}
	latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
)

// withObjectives is base plus each class's objective as picked by of, sorted and without repeats.
func withObjectives(base []float64, cfg *config.Config, of func(config.TrafficClass) time.Duration) []float64 {
	out := slices.Clone(base)
	for _, k := range cfg.TrafficClasses {
		if d := of(k); d > 0 {
			out = append(out, d.Seconds())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// exemplar labels a request's observations, so a dashboard can go from a slow bucket to the
// request's evidence (request_id) and its trace (trace_id). An exemplar's labels may hold at most
// 128 characters (client_golang panics beyond): the trace id is left out when it does not fit,
// and a request id too long to fit (a batch job's may be) gets no exemplar at all.
func exemplar(j job) prometheus.Labels {
	const requestID, traceID = "request_id", "trace_id"
	size := utf8.RuneCountInString(requestID) + utf8.RuneCountInString(j.id)
	if j.id == "" || size > prometheus.ExemplarMaxRunes {
		return nil
	}
	ex := prometheus.Labels{requestID: j.id}
	if j.traceID != "" && size+len(traceID)+len(j.traceID) <= prometheus.ExemplarMaxRunes {
		ex[traceID] = j.traceID
	}
	return ex
}

// observeWithExemplar observes d on o with exemplar ex when o takes exemplars (client_golang's
// histograms do) and d's band of o has no exemplar fresher than exemplarRefresh.
func observeWithExemplar(o prometheus.Observer, d time.Duration, ex prometheus.Labels) {
	if eo, ok := o.(prometheus.ExemplarObserver); ok && ex != nil && exemplarDue(o, d, time.Now()) {
		eo.ObserveWithExemplar(d.Seconds(), ex)
		return
	}
	o.Observe(d.Seconds())
}

// timedEmitter times a response's tokens for the TTFT and inter-token-latency histograms. Every
// gap is observed as it happens except the slowest so far, which is held back and observed at the
// end with the request's exemplar: one observation per gap, and the exemplar points at the
// stall worth looking at. The first token's time is observed at the end too.
type timedEmitter struct {
	emitter
	arrived     time.Time
	first, last time.Time
	slowest     time.Duration
	held        bool                // slowest is held back
	itl         prometheus.Observer // resolved at the second token
	m           *metrics
	// the request's labels and exemplar
	tenant, class, id, trace string
}

// timed wraps em for j, which arrived at arrived.
func (m *metrics) timed(em emitter, j job, arrived time.Time) *timedEmitter {
	return &timedEmitter{emitter: em, arrived: arrived, m: m,
		tenant: j.principal.Tenant, class: j.class.Name, id: j.id, trace: j.traceID}
}

func (t *timedEmitter) token(text string) error {
	now := time.Now()
	switch {
	case t.first.IsZero():
		t.first = now
	case !t.held:
		t.itl = t.m.itl.WithLabelValues(t.tenant, t.class)
		t.slowest, t.held = now.Sub(t.last), true
	default:
		gap := now.Sub(t.last)
		if gap > t.slowest {
			gap, t.slowest = t.slowest, gap
		}
		t.itl.Observe(gap.Seconds())
	}
	t.last = now
	return t.emitter.token(text)
}

// startsAtPick forwards the GRPCStartsAtPick defect's marker of the wrapped emitter.
func (t *timedEmitter) startsAtPick() bool {
	e, ok := t.emitter.(interface{ startsAtPick() bool })
	return ok && e.startsAtPick()
}

// splices forwards the splice defects' marker of the wrapped emitter.
func (t *timedEmitter) splices(failed ending, st *status.Status) bool {
	e, ok := t.emitter.(splicer)
	return ok && e.splices(failed, st)
}

// observe records the held-back observations, once the response has ended.
func (t *timedEmitter) observe() {
	if t.first.IsZero() {
		return
	}
	ex := exemplar(job{id: t.id, traceID: t.trace})
	observeWithExemplar(t.m.ttft.WithLabelValues(t.tenant, t.class), t.first.Sub(t.arrived), ex)
	if t.held {
		observeWithExemplar(t.itl, t.slowest, ex)
	}
}
