package suites

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	prommodel "github.com/prometheus/common/model"
)

// ADM-1's cross-check against the runtime's own count. Many runtimes publish, at /metrics on their
// API port, gauges of the requests they hold: running plus waiting is their admitted work in
// flight. While the overload runs the harness samples them; a client-side peak over the bound that
// the runtime's own gauges never came near is not read as an excess (a slow client path looks like
// a deep queue), and the evidence says which count was used. Gauges are sampled, so a short peak
// between two samples is missed: they can clear a client count, never convict on their own.

// gaugeSet is one runtime's gauges whose sum is its admitted work in flight.
type gaugeSet struct {
	runtime string
	names   []string
}

// knownGauges are the sets the harness knows, by the runtimes that publish them.
var knownGauges = []gaugeSet{
	{"ARuntime", []string{"aruntime_in_flight", "aruntime_queue_depth"}},
	{"vLLM", []string{"vllm:num_requests_running", "vllm:num_requests_waiting"}},
	{"SGLang", []string{"sglang:num_running_reqs", "sglang:num_queue_reqs"}},
	{"llama.cpp", []string{"llamacpp:requests_processing", "llamacpp:requests_deferred"}},
	{"TGI", []string{"tgi_batch_current_size", "tgi_queue_size"}},
}

// gaugeEvery is how often the gauges are sampled during the overload.
const gaugeEvery = 50 * time.Millisecond

// classLabel is the label by which a runtime splits a gauge per traffic class.
const classLabel = "traffic_class"

// gaugeReading is what the sampling found: the set read, the peak of its sum and how many samples
// were taken; set.runtime is "" when no known gauge was published. classPeak is, per traffic class
// some series was labelled with, the peak of the gauges that class can be in: its own series plus
// every series labelled with no class (a running count over all classes), so it is an upper bound
// on that class's admitted work, never less.
type gaugeReading struct {
	set       gaugeSet
	peak      float64
	classPeak map[string]float64
	samples   int
	why       string // why no gauge was read, for the evidence
}

// peakFor is the peak the gauges show for class: its own upper bound where the runtime labels its
// gauges by class, else the peak over every class.
func (g gaugeReading) peakFor(class string) float64 {
	if p, ok := g.classPeak[class]; ok {
		return p
	}
	return g.peak
}

// gaugeSample is one reading of a set over every router: the sum, and per labelled class that
// class's upper bound (its series plus the unlabelled ones).
type gaugeSample struct {
	sum     float64
	byClass map[string]float64
}

// read reports whether the runtime's gauges were read at all.
func (g gaugeReading) read() bool { return g.set.runtime != "" && g.samples > 0 }

// String says what was read, for the evidence line.
func (g gaugeReading) String() string {
	if !g.read() {
		return "the runtime's own count was not read (" + g.why + "): the in-flight counts are the client's alone"
	}
	perClass := ""
	for _, k := range slices.Sorted(maps.Keys(g.classPeak)) {
		perClass += fmt.Sprintf("; %s's at most %.0f", k, g.classPeak[k])
	}
	return fmt.Sprintf("the runtime's own gauges (%s, %s) peaked at %.0f over %d samples every %s%s",
		g.set.runtime, strings.Join(g.set.names, " + "), g.peak, g.samples, gaugeEvery, perClass)
}

// watchGauges samples the runtime's /metrics until ctx ends, then returns what it read.
func watchGauges(ctx context.Context) <-chan gaugeReading {
	out := make(chan gaugeReading, 1)
	go func() {
		g := gaugeReading{why: "the runtime publishes none of the gauges the harness knows at /metrics"}
		t := time.NewTicker(gaugeEvery)
		defer t.Stop()
		for {
			if set, sample, why := scrapeGauges(ctx); why == "" {
				if g.set.runtime == "" {
					g.set = set
				}
				g.peak = max(g.peak, sample.sum)
				for k, v := range sample.byClass {
					if g.classPeak == nil {
						g.classPeak = map[string]float64{}
					}
					g.classPeak[k] = max(g.classPeak[k], v)
				}
				g.samples++
			} else if g.samples == 0 {
				g.why = why
			}
			select {
			case <-ctx.Done():
				out <- g
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// scrapeGauges reads /metrics of every router the target lists once and sums the first known set
// each publishes; why says what went wrong, "" when a set was read from every router. It sums
// over the routers, not the primary alone, because the load is spread over all of them and each
// router publishes the work it admitted itself (ARuntime's aruntime_in_flight is one router's
// slots): the primary's gauges alone would undercount the runtime's admitted work by the others'
// share. A sample missing a router is no reading at all, as a partial sum would undercount too.
// Per class, a router that labels no series with it counts its whole sum for it (an upper bound).
func scrapeGauges(ctx context.Context) (gaugeSet, gaugeSample, string) {
	var first gaugeSet
	var per []routerGauges
	bases := env.Target.Endpoints.HTTPURLs()
	for _, base := range bases {
		set, r, why := scrapeRouter(ctx, base)
		if why != "" {
			if len(bases) > 1 {
				why += " at " + base
			}
			return gaugeSet{}, gaugeSample{}, why
		}
		if first.runtime == "" {
			first = set
		}
		per = append(per, r)
	}
	return first, sumRouters(per), ""
}

// routerGauges is one router's reading: the sum of its set, the part of it no class label names, and
// each labelled class's own series.
type routerGauges struct {
	sum, unlabelled float64
	class           map[string]float64
}

// sumRouters adds the routers' readings, per class as peakFor reads them.
func sumRouters(rs []routerGauges) gaugeSample {
	var s gaugeSample
	classes := map[string]bool{}
	for _, r := range rs {
		s.sum += r.sum
		for k := range r.class {
			classes[k] = true
		}
	}
	for k := range classes {
		if s.byClass == nil {
			s.byClass = map[string]float64{}
		}
		for _, r := range rs {
			if v, ok := r.class[k]; ok {
				s.byClass[k] += r.unlabelled + v
			} else {
				s.byClass[k] += r.sum
			}
		}
	}
	return s
}

// scrapeRouter reads one router's /metrics and sums the first known set it finds.
func scrapeRouter(ctx context.Context, base string) (gaugeSet, routerGauges, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/metrics", nil)
	if err != nil {
		return gaugeSet{}, routerGauges{}, err.Error()
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	if op := env.Target.Operator; op != nil && op.Key != "" {
		req.Header.Set("Authorization", "Bearer "+op.Key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gaugeSet{}, routerGauges{}, "GET /metrics failed"
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return gaugeSet{}, routerGauges{}, fmt.Sprintf("GET /metrics answered %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(prommodel.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return gaugeSet{}, routerGauges{}, "GET /metrics is not the Prometheus text format"
	}
	for _, set := range knownGauges {
		if r, ok := readSet(fams, set); ok {
			return set, r, ""
		}
	}
	return gaugeSet{}, routerGauges{}, "the runtime publishes none of the gauges the harness knows at /metrics"
}

// gaugesRun runs f while sampling the gauges, and returns what they read.
func gaugesRun(ctx context.Context, f func()) gaugeReading {
	gctx, stop := context.WithCancel(ctx)
	defer stop() // a failing f (a Ginkgo Fail panics through here) must not leave the watcher running
	read := watchGauges(gctx)
	f()
	stop()
	return <-read
}

// readSet sums set's gauges in fams, apart per traffic class label; ok is false unless every
// gauge of the set is published.
func readSet(fams map[string]*dto.MetricFamily, set gaugeSet) (r routerGauges, ok bool) {
	for _, name := range set.names {
		f, found := fams[name]
		if !found {
			return routerGauges{}, false
		}
		for _, m := range f.GetMetric() {
			v := m.GetGauge().GetValue()
			r.sum += v
			k := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == classLabel {
					k = l.GetValue()
				}
			}
			if k == "" {
				r.unlabelled += v
				continue
			}
			if r.class == nil {
				r.class = map[string]float64{}
			}
			r.class[k] += v
		}
	}
	return r, true
}
