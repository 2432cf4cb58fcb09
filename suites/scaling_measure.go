package suites

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/report"
)

// servedByModel is scaledOK, and, when the runtime names the worker and lists the model's workers
// (members, non-nil), served by one of them: an answer of another model's worker (overflow sent
// to a smaller model and called completed) is no capacity of the declared one.
func servedByModel(members map[string]bool) func(chaosledger.Entry) bool {
	return func(e chaosledger.Entry) bool {
		return scaledOK(e) && (members == nil || e.ServedBy.Worker == "" || members[e.ServedBy.Worker])
	}
}

// scaledOK reports whether e is an answer SCL-1 counts as capacity of the declared model: served
// as asked (completed, not rerouted to another region or degraded to another model) and not by a
// hosted provider the target declares. Overflow sent elsewhere is no capacity the autoscaler added.
func scaledOK(e chaosledger.Entry) bool {
	return answered(e) && e.Outcome == outcome.Completed && !slices.Contains(hostedProviders(), e.ServedBy.Provider)
}

// refusedForCapacity reports whether e was turned away for capacity with a Retry-After.
func refusedForCapacity(e chaosledger.Entry) bool {
	return answered(e) && (e.Outcome == outcome.Shed || e.Outcome == outcome.Rejected) && e.RetryAfter > 0
}

// calibration is the measure of the model's capacity at rest.
type calibration struct {
	served    int     // scaledOK answers that ended within a burst
	seconds   float64 // the bursts' total length
	saturated bool    // a refusal for capacity, or queueing, was seen
	entries   []chaosledger.Entry
}

// calibrate saturates the model in closed loop for scaleBursts bursts of scaleBurst each, a pause
// of scaleSettle between them: together a measure of at least 3 s, while no burst lasts long
// enough that a sane scale_out_after would act on it.
func calibrate(ctx context.Context, rq request, ok func(chaosledger.Entry) bool) calibration {
	var c calibration
	for b := range scaleBursts {
		served, entries := burst(ctx, rq, b, ok)
		c.served += served
		c.entries = append(c.entries, entries...)
		c.seconds += scaleBurst.Seconds()
		time.Sleep(scaleSettle)
	}
	var lat []time.Duration
	for _, e := range c.entries {
		switch {
		case refusedForCapacity(e):
			c.saturated = true
		case ok(e):
			lat = append(lat, e.Latency())
		}
	}
	// Queueing: the slower answers took clearly longer than the fastest, which only waiting does
	// to requests of one shape.
	if len(lat) >= 10 {
		slices.Sort(lat)
		if lat[len(lat)*9/10] >= lat[0]*3/2 {
			c.saturated = true
		}
	}
	return c
}

// burst runs one closed-loop burst and returns how many answers ok counts ended within it.
func burst(ctx context.Context, rq request, b int, ok func(chaosledger.Entry) bool) (int, []chaosledger.Entry) {
	var l chaosledger.Ledger
	end := time.Now().Add(scaleBurst)
	var wg sync.WaitGroup
	for c := range scaleCalibrators {
		wg.Go(func() {
			for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
				r := rq
				r.body.Messages = slices.Clone(rq.body.Messages)
				r.body.Messages[0].Content = fmt.Sprintf("autoscaling calibration %d/%d/%d", b, c, i)
				e := sendLoad(ctx, (b*100+c)*1000+i, time.Now(), r)
				l.Record(e)
				if !ok(e) {
					time.Sleep(20 * time.Millisecond) // a refusal is instant: do not spin on it
				}
			}
		})
	}
	wg.Wait()
	served := 0
	entries := l.Entries()
	for _, e := range entries {
		if ok(e) && !e.End.After(end) {
			served++
		}
	}
	return served, entries
}

// scaleRun is a step's outcome per whole second since its first scheduled arrival, for the plot,
// the plateau and steady state.
type scaleRun struct {
	offered, served, shed []float64
}

// bySecond is the step second by second, for a verdict's message: what the model's workers served
// and what was shed, so a late or missing crossing shows whether capacity came late or the served
// rate only wavered around the threshold.
func (s scaleRun) bySecond() string {
	whole := func(vs []float64) string {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = strconv.FormatFloat(v, 'f', 0, 64)
		}
		return strings.Join(parts, " ")
	}
	return fmt.Sprintf("second by second, served by its workers [%s], shed [%s]", whole(s.served), whole(s.shed))
}

// scaleSeconds buckets entries into length's whole seconds: offered by when scheduled, served
// (scaledOK) and shed by when they ended.
func scaleSeconds(entries []chaosledger.Entry, length time.Duration, ok func(chaosledger.Entry) bool) scaleRun {
	n := int(length / time.Second)
	s := scaleRun{offered: make([]float64, n), served: make([]float64, n), shed: make([]float64, n)}
	origin := runOrigin(entries)
	at := func(t time.Time) int { return int(t.Sub(origin) / time.Second) }
	for _, e := range entries {
		if i := at(e.Scheduled); i >= 0 && i < n {
			s.offered[i]++
		}
		i := at(e.End)
		if i < 0 || i >= n {
			continue
		}
		switch {
		case ok(e):
			s.served[i]++
		case e.Outcome == outcome.Shed:
			s.shed[i]++
		}
	}
	return s
}

// firstAbove is the end, in whole seconds, of the first second whose served count is above
// rate, or -1.
func (s scaleRun) firstAbove(rate float64) int {
	for i, v := range s.served {
		if v > rate {
			return i + 1
		}
	}
	return -1
}

// plateau is the mean served rate of the last scalePlateau seconds.
func (s scaleRun) plateau() float64 {
	tail := s.served[max(0, len(s.served)-scalePlateau):]
	sum := 0.0
	for _, v := range tail {
		sum += v
	}
	return sum / float64(max(1, len(tail)))
}

// crossing is the first added capacity of a step: the end t (seconds since the first scheduled
// arrival, in scaleSlide steps) of the first 1 s window whose scaledOK count is above rate while
// the next 1 s window, [t, t+1 s), is above it too, so one lucky second is not capacity. When
// fresh is not nil it must also hold by t: a worker fresh names (one not serving at the step) has
// served, which is what corroborates that the capacity was added. -1 when there is none.
func crossing(entries []chaosledger.Entry, length time.Duration, rate float64, ok func(chaosledger.Entry) bool, fresh func(at time.Time) bool) float64 {
	origin := runOrigin(entries)
	var ends []time.Duration
	for _, e := range entries {
		if ok(e) {
			ends = append(ends, e.End.Sub(origin))
		}
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	count := func(from, to time.Duration) float64 {
		lo := sort.Search(len(ends), func(i int) bool { return ends[i] >= from })
		hi := sort.Search(len(ends), func(i int) bool { return ends[i] >= to })
		return float64(hi - lo)
	}
	for t := time.Second; t+time.Second <= length; t += scaleSlide {
		if count(t-time.Second, t) > rate && count(t, t+time.Second) > rate && (fresh == nil || fresh(origin.Add(t))) {
			return t.Seconds()
		}
	}
	return -1
}

// firstServedAt is, for each worker of ids, when it first served an ok answer of entries, in
// seconds since the run's first scheduled arrival: "worker-s-2 at 2.90 s, ...".
func firstServedAt(entries []chaosledger.Entry, ids []string, ok func(chaosledger.Entry) bool) string {
	origin := runOrigin(entries)
	first := map[string]time.Duration{}
	for _, e := range entries {
		if !ok(e) || !slices.Contains(ids, e.ServedBy.Worker) {
			continue
		}
		if t, seen := first[e.ServedBy.Worker]; !seen || e.End.Sub(origin) < t {
			first[e.ServedBy.Worker] = e.End.Sub(origin)
		}
	}
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%s at %.2f s", id, first[id].Seconds()))
	}
	return strings.Join(parts, ", ")
}

// freshBy returns, when every scaledOK answer of entries names its worker, a test of whether a
// worker not in known served an answer that ended by a given instant, and the ids of those
// workers; nil when some answer names no worker (a runtime need not), and SCL-1 then judges by
// the served rate alone.
func freshBy(entries []chaosledger.Entry, known map[string]bool, ok func(chaosledger.Entry) bool) (func(time.Time) bool, []string) {
	first := map[string]time.Time{}
	for _, e := range entries {
		if !ok(e) {
			continue
		}
		w := e.ServedBy.Worker
		if w == "" {
			return nil, nil
		}
		if t, ok := first[w]; !known[w] && (!ok || e.End.Before(t)) {
			first[w] = e.End
		}
	}
	var ids []string
	for w := range first {
		ids = append(ids, w)
	}
	slices.Sort(ids)
	return func(at time.Time) bool {
		for _, t := range first {
			if !t.After(at) {
				return true
			}
		}
		return false
	}, ids
}

// plotScaling draws the step second by second, the declared lag shaded.
func plotScaling(s scaleRun, lag time.Duration) {
	series := []report.PlotSeries{{Name: "offered"}, {Name: "served by the model's workers"}, {Name: "shed (Retry-After)"}}
	for i := range s.served {
		x := float64(i + 1)
		for j, v := range []float64{s.offered[i], s.served[i], s.shed[i]} {
			series[j].Points = append(series[j].Points, report.Point{X: x, Y: v})
		}
	}
	plot(report.Plot{Kind: report.Series, Title: "Autoscaling lag: a load step to 3x the capacity at rest", X: "s since the step began", Y: "requests per second",
		Series: series, Bands: []report.Band{{Name: "declared lag", From: 0, To: lag.Seconds()}}})
}

// workersServing is the set of workers the runtime reports with an artifact of model, or nil
// when it reports none (the set is then only not known).
func workersServing(ctx context.Context, model string) map[string]bool {
	var v discovery.Versions
	status, _, err := env.HTTP.GetJSON(ctx, discovery.PathVersions, tenantA().Key, &v)
	if err != nil || status != http.StatusOK {
		return nil
	}
	out := map[string]bool{}
	for _, w := range v.Workers {
		if slices.ContainsFunc(w.Artifacts, func(a discovery.Artifact) bool { return a.Model == model }) {
			out[w.Worker] = true
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// workerCounts says how many workers served the model before and after the step.
func workerCounts(before, after map[string]bool) string {
	if before == nil || after == nil {
		return "not reported"
	}
	return fmt.Sprintf("%d before, %d after", len(before), len(after))
}

// listedFirst is up to n of items, and how many more.
func listedFirst(items []string, n int) string {
	if len(items) <= n {
		return fmt.Sprint(items)
	}
	return fmt.Sprintf("%v and %d more", items[:n], len(items)-n)
}
