package suites

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/report"
)

// SCL-1 holds a runtime to the autoscaling lag its record declares, black-box: it measures what
// the declared model serves at rest, steps the offered load to scaleStep times that, and reads,
// second by second, when the served rate first rises clearly above the rest (the first added
// capacity) and when it reaches most of its final plateau (steady state). Meanwhile the excess
// must end by the contract: shed with Retry-After, never held until its deadline.
const (
	// scaleCalibration is the closed-loop measure of the model's capacity at rest: short, so that
	// no sane scale_out_after acts on it; scaleCalibrators is its concurrency, enough to fill a
	// small group's slots and queue.
	scaleCalibration = time.Second
	scaleCalibrators = 16
	// scaleSettle lets the runtime drain the calibration before the step.
	scaleSettle = time.Second
	// scaleStep is the step's offered load in multiples of the capacity at rest.
	scaleStep = 3.0
	// scaleAdded is how far above the rest a second's served rate must be to count as added
	// capacity: far above the noise of one second's count.
	scaleAdded = 1.3
	// scaleSteady is the share of the final plateau that counts as steady state; scalePlateau the
	// trailing whole seconds the plateau is averaged over.
	scaleSteady  = 0.9
	scalePlateau = 3
	// scaleMargin is added to twice the declared lag for the step's length.
	scaleMargin = 4 * time.Second
	// scaleMaxTokens keeps each request short, so a second's count is many requests.
	scaleMaxTokens = 8
	// scaleMinServed is the fewest requests the calibration must serve to be a measure.
	scaleMinServed = 5
	// scaleGrace is how far past its deadline a request may end (the client's own clock).
	scaleGrace = time.Second
)

var _ = Describe("Autoscaling lag", Serial, func() {
	It("adds capacity within the declared lag under a load step to 3x, shedding the excess meanwhile", Req("SCL-1"), func(ctx SpecContext) {
		a := env.Target.Placement.AutoscalingLag
		lag := time.Duration(a.ExpectedSeconds * float64(time.Second))
		class := a.Class
		if class == "" && len(env.Target.TrafficClasses) > 0 {
			class = env.Target.TrafficClasses[0].Name
		}
		key := tenantA().Key
		body := probe("autoscaling lag", scaleMaxTokens, false)
		body.Model = a.Model
		rq := request{key: key, class: class, body: body}
		before := workersServing(ctx, a.Model)

		served, _ := calibrate(ctx, rq)
		if served < scaleMinServed {
			invalid("the calibration served %d requests of %s in %s (need %d): no capacity at rest to step from", served, a.Model, scaleCalibration, scaleMinServed)
			return
		}
		judged("calibration", served)
		baseline := float64(served) / scaleCalibration.Seconds()
		time.Sleep(scaleSettle)

		length := 2*lag + scaleMargin
		rate := scaleStep * baseline
		run := openLoop(ctx, "autoscaling-step", env.Seed+1801, rate, length, func(i int) request {
			r := rq
			r.body.Messages = slices.Clone(rq.body.Messages)
			r.body.Messages[0].Content = fmt.Sprintf("autoscaling lag %d %s", i, promptTag(uint64(i)))
			return r
		})
		s := scaleSeconds(run.entries, length)
		plotScaling(s, lag)
		after := workersServing(ctx, a.Model)

		// Contract first: whatever the lag, no request may end outside it.
		var outside []string
		shed := 0
		for _, e := range run.entries {
			switch {
			case servedOK(e):
			case answered(e) && e.Outcome == outcome.Shed && e.RetryAfter > 0:
				shed++
			default:
				outside = append(outside, describeEntry(e))
				continue
			}
			if e.Deadline > 0 && e.Latency() > e.Deadline+scaleGrace {
				outside = append(outside, fmt.Sprintf("request #%d ended %s after it was sent, past its %s deadline", e.Seq, e.Latency().Round(time.Millisecond), e.Deadline))
			}
		}
		mustHold(len(outside) == 0, "%d of %d requests of the step ended outside the contract (served, or shed with Retry-After, within the deadline), e.g. %s",
			len(outside), len(run.entries), listedFirst(outside, 3))
		if shed == 0 && s.served[0] >= 0.9*s.offered[0] {
			invalid("the step to %.1f req/s (3x %.1f) never overloaded %s: nothing shed and the first second served %.0f of %.0f offered", rate, baseline, a.Model, s.served[0], s.offered[0])
			return
		}
		judged("step", len(run.entries))
		first, steady, plateau := s.firstAbove(scaleAdded*baseline), -1, s.plateau()
		if first >= 0 {
			steady = s.firstAbove(scaleSteady * plateau)
		}
		mustHold(first >= 0, "no added capacity for %s in %s: served stayed at or under %.1f req/s (%.1fx the %.1f at rest) while %.1f were offered; %d shed; workers serving it %s",
			a.Model, length, scaleAdded*baseline, scaleAdded, baseline, rate, shed, workerCounts(before, after))
		mustHold(float64(first) <= lag.Seconds(), "the first added capacity for %s came %d s into the step, later than the declared %s (served %.1f req/s at rest, %.1f then); workers serving it %s",
			a.Model, first, lag, baseline, s.served[first-1], workerCounts(before, after))
		evidence("%s: %.1f req/s at rest (%d served in calibration); stepped to %.1f req/s for %s: first added capacity at %d s (declared %s), steady state (%.0f%% of the %.1f req/s plateau) at %d s; %d of %d requests served, %d shed with Retry-After, none past its deadline; workers serving it %s",
			a.Model, baseline, served, rate, length, first, lag, scaleSteady*100, plateau, steady, len(run.entries)-shed, len(run.entries), shed, workerCounts(before, after))
	}, SpecTimeout(2*time.Minute))
})

// calibrate saturates the model in closed loop for scaleCalibration and returns how many requests
// were served within it, and every entry.
func calibrate(ctx context.Context, rq request) (int, []chaosledger.Entry) {
	var l chaosledger.Ledger
	start := time.Now()
	end := start.Add(scaleCalibration)
	var wg sync.WaitGroup
	for c := range scaleCalibrators {
		wg.Go(func() {
			for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
				r := rq
				r.body.Messages = slices.Clone(rq.body.Messages)
				r.body.Messages[0].Content = fmt.Sprintf("autoscaling calibration %d/%d", c, i)
				e := sendLoad(ctx, c*1000+i, time.Now(), r)
				l.Record(e)
				if !servedOK(e) {
					time.Sleep(20 * time.Millisecond) // a refusal is instant: do not spin on it
				}
			}
		})
	}
	wg.Wait()
	served := 0
	entries := l.Entries()
	for _, e := range entries {
		if servedOK(e) && !e.End.After(end) {
			served++
		}
	}
	return served, entries
}

// scaleRun is a step's outcome per whole second since its first scheduled arrival.
type scaleRun struct {
	offered, served, shed []float64
}

// scaleSeconds buckets entries into length's whole seconds: offered by when scheduled, served
// and shed by when they ended.
func scaleSeconds(entries []chaosledger.Entry, length time.Duration) scaleRun {
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
		case servedOK(e):
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

// plotScaling draws the step second by second, the declared lag shaded.
func plotScaling(s scaleRun, lag time.Duration) {
	series := []report.PlotSeries{{Name: "offered"}, {Name: "served"}, {Name: "shed (Retry-After)"}}
	for i := range s.served {
		x := float64(i + 1)
		for j, v := range []float64{s.offered[i], s.served[i], s.shed[i]} {
			series[j].Points = append(series[j].Points, report.Point{X: x, Y: v})
		}
	}
	plot(report.Plot{Kind: report.Series, Title: "Autoscaling lag: a load step to 3x the capacity at rest", X: "s since the step began", Y: "requests per second",
		Series: series, Bands: []report.Band{{Name: "declared lag", From: 0, To: lag.Seconds()}}})
}

// workersServing counts the workers the runtime reports with an artifact of model, or -1 when
// it reports none (the count is then only not known).
func workersServing(ctx context.Context, model string) int {
	var v discovery.Versions
	status, _, err := env.HTTP.GetJSON(ctx, discovery.PathVersions, tenantA().Key, &v)
	if err != nil || status != http.StatusOK {
		return -1
	}
	n := 0
	for _, w := range v.Workers {
		if slices.ContainsFunc(w.Artifacts, func(a discovery.Artifact) bool { return a.Model == model }) {
			n++
		}
	}
	return n
}

// workerCounts says how many workers served the model before and after the step.
func workerCounts(before, after int) string {
	if before < 0 || after < 0 {
		return "not reported"
	}
	return fmt.Sprintf("%d before, %d after", before, after)
}

// listedFirst is up to n of items, and how many more.
func listedFirst(items []string, n int) string {
	if len(items) <= n {
		return fmt.Sprint(items)
	}
	return fmt.Sprintf("%v and %d more", items[:n], len(items)-n)
}
