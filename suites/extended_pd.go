package suites

import (
	"context"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/checks"
	"github.com/aruntime/arcert/conformance/driver"
)

// Load profile of the decode-protection spec: pdStreams interactive streams of pdTokens tokens
// each run back to back for pdWindow while long prompts arrive every pdLongEvery in the other
// class, pdLongShare of the context in words (at most two tokens a word keeps them inside it).
// The verdict is on the 95 % upper confidence bound of the p99 gap, which needs at least pdMinITL
// gaps (0.99^299 < 0.05), and on pdMinLong long prompts served, else INVALID. The reference
// yields about 1,200 gaps in the window, so the bound sits near the true p99, not at the maximum.
const (
	pdStreams   = 3
	pdTokens    = 24
	pdWindow    = 4 * time.Second
	pdLongEvery = 200 * time.Millisecond
	pdLongShare = 0.35
	pdQuantile  = 0.99
	pdAlpha     = 0.05
	pdMinITL    = 299
	pdMinLong   = 10
)

var _ = Describe("Decode protection", Serial, func() {
	It("keeps interactive inter-token latency within its objective while long prompts prefill", Req("ADM-6"), func(ctx SpecContext) {
		classes := env.Target.TrafficClasses
		switch {
		case len(classes) < 2:
			invalid("the target declares %d traffic classes; the check needs an interactive one and another for the long prompts", len(classes))
			return
		case classes[0].ITL == 0:
			invalid("the target declares no ITL objective for its first class %s", classes[0].Name)
			return
		}
		interactive, other := classes[0], classes[1]
		longWords := int(float64(model().ContextLength) * pdLongShare)
		r := rng(0xad6)
		longPrompts := make([]string, int(pdWindow/pdLongEvery)+1)
		for i := range longPrompts {
			longPrompts[i] = prompt(r, longWords)
		}
		shortPrompts := make([][]string, pdStreams)
		for i := range shortPrompts {
			for range 64 {
				shortPrompts[i] = append(shortPrompts[i], prompt(r, 12))
			}
		}

		wctx, stop := context.WithTimeout(ctx, pdWindow)
		defer stop()
		var mu sync.Mutex
		var gaps []time.Duration
		longServed, asked, refused := 0, 0, 0
		var wg sync.WaitGroup
		hdr := http.Header{outcome.HeaderTrafficClass: []string{interactive.Name}}
		for i := range pdStreams {
			wg.Go(func() {
				for n := 0; wctx.Err() == nil && n < len(shortPrompts[i]); n++ {
					res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: tenantA().Key, Body: probe(shortPrompts[i][n], pdTokens, true), Header: hdr})
					mu.Lock()
					asked++
					if err == nil && res.Outcome.Served() {
						gaps = append(gaps, res.ITL...)
					} else {
						refused++ // shedding interactive work must not buy a better ITL
					}
					mu.Unlock()
				}
			})
		}
		batch := http.Header{outcome.HeaderTrafficClass: []string{other.Name}}
		tick := time.NewTicker(pdLongEvery)
		for i := 0; wctx.Err() == nil && i < len(longPrompts); i++ {
			wg.Go(func() {
				res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: tenantB().Key, Body: probe(longPrompts[i], 4, false), Header: batch})
				if err == nil && res.Outcome.Served() {
					mu.Lock()
					longServed++
					mu.Unlock()
				}
			})
			select {
			case <-tick.C:
			case <-wctx.Done():
			}
		}
		tick.Stop()
		wg.Wait()

		p50, p99 := checks.Quantile(gaps, 0.5), checks.Quantile(gaps, pdQuantile)
		bound, ok := checks.QuantileUpperBound(gaps, pdQuantile, pdAlpha)
		evidence("%s ITL p50 %s p99 %s (95%% upper bound %s, objective %s) over %d gaps of %d of %d requests served, while %d prompts of %d words prefilled",
			interactive.Name, p50, p99, bound, interactive.ITL, len(gaps), asked-refused, asked, longServed, longWords)
		// First, so a runtime cannot trade a refusal for an INVALID or a better bound.
		Expect(refused).To(BeZero(), "%d of %d interactive requests were not served while long prompts prefilled", refused, asked)
		if !ok || len(gaps) < pdMinITL || longServed < pdMinLong {
			invalid("%d inter-token gaps and %d long prompts served; the check needs %d (for a 95%% bound on the p99) and %d", len(gaps), longServed, pdMinITL, pdMinLong)
			return
		}
		Expect(bound).To(BeNumerically("<=", interactive.ITL), "interactive ITL p99 (95%% upper bound %s) over the objective %s while long prompts prefilled", bound, interactive.ITL)
		judged("http-stream", asked)
		judged("class:"+interactive.Name, asked)
		judged("class:"+other.Name, longServed)
	}, SpecTimeout(time.Minute))
})
