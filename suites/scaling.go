package suites

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/outcome"
)

// SCL-1 holds a runtime to the autoscaling lag its record declares, black-box: it measures what
// the declared model's own workers serve at rest, steps the offered load to scaleStep times that,
// and reads, in 1 s windows sliding by scaleSlide, when the served rate first rises clearly above
// the rest and stays there (the first added capacity, corroborated by a new worker serving when
// the runtime names its workers) and when it reaches most of its final plateau (steady state).
// Meanwhile the excess must end by the contract: shed with Retry-After, never held until
// capacity comes. Only completed answers of the model's workers count: overflow rerouted to a
// provider, another region or a smaller model is no capacity added.
const (
	// The calibration is scaleBursts closed-loop bursts of scaleBurst at scaleCalibrators
	// concurrency, scaleSettle apart: 3.75 s of measure in all, while no burst keeps the group
	// pressed (work waiting, then its slots busy as the burst drains: about a second) long enough
	// for a scale_out_after above that to act on it.
	scaleBursts      = 5
	scaleBurst       = 750 * time.Millisecond
	scaleCalibrators = 8
	scaleSettle      = time.Second
	// scaleMinServed is the fewest answers the calibration must count to be a measure.
	scaleMinServed = 30
	// scaleStep is the step's offered load in multiples of the capacity at rest.
	scaleStep = 3.0
	// scaleAdded is how far above the rest two consecutive 1 s windows must be to count as added
	// capacity: far above the noise of one second's count.
	scaleAdded = 1.3
	// scaleSlide is how far the 1 s window moves at a time: the lag is read to a quarter second.
	scaleSlide = 250 * time.Millisecond
	// scaleSteady is the share of the final plateau that counts as steady state; scalePlateau the
	// trailing whole seconds the plateau is averaged over.
	scaleSteady  = 0.9
	scalePlateau = 3
	// scaleMargin is added to twice the declared lag for the step's length.
	scaleMargin = 4 * time.Second
	// scaleMaxTokens keeps each request short, so a second's count is many requests.
	scaleMaxTokens = 8
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
		tc, _ := env.Target.Class(class)
		if tc.Deadline <= 0 {
			invalid("traffic class %q declares no deadline: SCL-1 cannot tell the excess shed from the excess held until capacity comes", class)
			return
		}
		key := tenantA().Key
		body := probe("autoscaling lag", scaleMaxTokens, false)
		body.Model = a.Model
		rq := request{key: key, class: class, body: body}
		before := workersServing(ctx, a.Model)

		cal := calibrate(ctx, rq, servedByModel(before)) // only the workers serving it at rest
		if cal.served < scaleMinServed || cal.seconds < 3 {
			invalid("the calibration served %d requests of %s by its workers in %.2f s (need %d in 3 s): no capacity at rest to step from", cal.served, a.Model, cal.seconds, scaleMinServed)
			return
		}
		if !cal.saturated {
			invalid("the calibration (%d concurrent, %d served) saw no refusal for capacity and no queueing: it did not measure %s's capacity at rest", scaleCalibrators, cal.served, a.Model)
			return
		}
		judged("calibration", cal.served)
		baseline := float64(cal.served) / cal.seconds
		atStep := workersServing(ctx, a.Model)
		if before != nil && atStep != nil && !maps.Equal(before, atStep) {
			invalid("the workers serving %s changed during the calibration (%s before, %s at the step): the step would not start from rest",
				a.Model, strings.Join(slices.Sorted(maps.Keys(before)), ", "), strings.Join(slices.Sorted(maps.Keys(atStep)), ", "))
			return
		}

		length := 2*lag + scaleMargin
		rate := scaleStep * baseline
		run := openLoop(ctx, "autoscaling-step", env.Seed+1801, rate, length, func(i int) request {
			r := rq
			r.body.Messages = slices.Clone(rq.body.Messages)
			r.body.Messages[0].Content = fmt.Sprintf("autoscaling lag %d %s", i, promptTag(uint64(i)))
			return r
		})
		after := workersServing(ctx, a.Model)
		// The model's workers: those serving it at the step or after it (an added one), when the
		// runtime lists them; an answer of any other worker is served elsewhere.
		var members map[string]bool
		if atStep != nil && after != nil {
			members = map[string]bool{}
			maps.Copy(members, atStep)
			maps.Copy(members, after)
		}
		ofModel := servedByModel(members)
		s := scaleSeconds(run.entries, length, ofModel)
		plotScaling(s, lag)

		// Contract first: whatever the lag, no request may end outside it.
		var outside, late []string
		shed, elsewhere := 0, 0
		for _, e := range run.entries {
			switch {
			case ofModel(e):
				if tc.TTFT > 0 && e.TTFT > tc.TTFT {
					late = append(late, fmt.Sprintf("request #%d's first token after %s", e.Seq, e.TTFT.Round(time.Millisecond)))
				}
			case servedOK(e):
				elsewhere++ // rerouted, degraded or a provider's: in the contract, but no capacity
			case answered(e) && e.Outcome == outcome.Shed && e.RetryAfter > 0:
				shed++
			default:
				outside = append(outside, describeEntry(e))
				continue
			}
			if e.Latency() > tc.Deadline+scaleGrace {
				outside = append(outside, fmt.Sprintf("request #%d ended %s after it was sent, past its %s deadline", e.Seq, e.Latency().Round(time.Millisecond), tc.Deadline))
			}
		}
		mustHold(len(outside) == 0, "%d of %d requests of the step ended outside the contract (served, or shed with Retry-After, within the deadline), e.g. %s",
			len(outside), len(run.entries), listedFirst(outside, 3))
		if shed == 0 && s.served[0] >= 0.9*s.offered[0] {
			invalid("the step to %.1f req/s (3x %.1f) never overloaded %s: nothing shed and the first second served %.0f of %.0f offered", rate, baseline, a.Model, s.served[0], s.offered[0])
			return
		}
		// Holding the excess until capacity comes is what the lag must not be absorbed by: without
		// any shed, every answer must have met the class's TTFT objective.
		mustHold(shed > 0 || (tc.TTFT > 0 && len(late) == 0), "nothing of the step to %.1f req/s was shed while %s's capacity was %.1f req/s, and %d answers missed class %s's TTFT objective (%s), e.g. %s: the excess was held, not shed",
			rate, a.Model, baseline, len(late), class, tc.TTFT, listedFirst(late, 3))
		judged("step", len(run.entries))

		known := map[string]bool{}
		maps.Copy(known, atStep)
		for _, e := range cal.entries {
			if ofModel(e) && e.ServedBy.Worker != "" {
				known[e.ServedBy.Worker] = true
			}
		}
		fresh, added := freshBy(run.entries, known, ofModel)
		named := "the runtime names no worker in its answers: judged by the served rate alone"
		if fresh != nil {
			named = "new workers serving it: none"
			if len(added) > 0 {
				named = fmt.Sprintf("new workers serving it: %s (first answers: %s)", listed(added), firstServedAt(run.entries, added, ofModel))
			}
		}
		first := crossing(run.entries, length, scaleAdded*baseline, ofModel, fresh)
		steady := -1
		if first >= 0 {
			steady = s.firstAbove(scaleSteady * s.plateau())
		}
		mustHold(first >= 0, "no added capacity for %s in %s: its workers' served rate never stayed above %.1f req/s (%.1fx the %.1f at rest) for 2 s while %.1f were offered; %d shed, %d served elsewhere; workers serving it %s; %s; %s",
			a.Model, length, scaleAdded*baseline, scaleAdded, baseline, rate, shed, elsewhere, workerCounts(before, after), named, s.bySecond())
		if first <= 1 {
			invalid("%s served %.1fx its rate at rest in the step's first second: capacity added before the step, so the lag cannot be read", a.Model, scaleAdded)
			return
		}
		mustHold(first <= lag.Seconds(), "the first added capacity for %s came %.2f s into the step, later than the declared %s (%.1f req/s at rest, so above %.1f in two 1 s windows in a row); workers serving it %s; %s; %s",
			a.Model, first, lag, baseline, scaleAdded*baseline, workerCounts(before, after), named, s.bySecond())
		evidence("%s: %.1f req/s at rest (%d served by its workers in %.2f s of calibration); stepped to %.1f req/s for %s: first added capacity at %.2f s (declared %s), steady state (%.0f%% of the %.1f req/s plateau) at %d s; %d of %d requests served by its workers, %d elsewhere, %d shed with Retry-After, none past its deadline; workers serving it %s; %s",
			a.Model, baseline, cal.served, cal.seconds, rate, length, first, lag, scaleSteady*100, s.plateau(), steady, len(run.entries)-shed-elsewhere, len(run.entries), elsewhere, shed, workerCounts(before, after), named)
	}, SpecTimeout(3*time.Minute))
})
