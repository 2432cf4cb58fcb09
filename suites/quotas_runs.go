package suites

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/openai"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/target"
)

// The quota runs send one tenant quotaFactor times one of its declared quotas for the run's duration,
// and measure what was admitted after the run's warmup, once any burst allowance is spent: that
// steady rate is the quota as enforced. A request run spends the requests-per-minute quota with
// small prompts; a token run spends the tokens-per-minute quota with long prompts, so few enough
// requests are admitted that the request quota never binds (tokenRunRequestShare); a completion
// run spends it with output (short prompts, max_tokens sized the same way), so a runtime that
// charges the prompt alone is seen. At quotaFactor times the quota, a burst allowance of up to two
// seconds' quota is spent within a request run's warmup. The token runs are longer, and wait
// longer before they measure: each of their admitted requests is a few percent of the window's
// tokens, so the window's edges weigh more.
const (
	quotaFactor = 3
	// requestRunDuration and requestRunWarmup are a request run's; tokenRunDuration and
	// tokenRunWarmup a token run's.
	requestRunDuration = 3500 * time.Millisecond
	requestRunWarmup   = time.Second
	tokenRunDuration   = 5500 * time.Millisecond
	tokenRunWarmup     = 1500 * time.Millisecond
	// completionRunDuration is a completion run's, longer than a token run's so that its rate rests
	// on about 40 requests rather than 20: a 5.5 s run once measured 10 % low on 19.
	completionRunDuration = 9500 * time.Millisecond
	quotaTolerance        = 0.10
	// minQuotaSamples is how many admitted requests in the measured window make a rate meaningful.
	minQuotaSamples = 20
	// quotaLoadShare is how much of the declared capacity a quota run may offer, so that the quota,
	// not load shedding, is what refuses it.
	quotaLoadShare = 0.5
	// tokenRunRequestShare is the largest share of its request quota a token run may have
	// admitted: below it, only the token quota can be what refuses the rest.
	tokenRunRequestShare = 0.6
	// tokenRunMaxTokens is each token-run request's output: the quota is spent by the prompt.
	tokenRunMaxTokens = 1
	// quotaRunBudget is how many quota runs one certification makes at most; tenants beyond it are
	// named as not measured.
	quotaRunBudget = 4
	// calibrationWords is the prompt that measures how many tokens a word is in the runtime's
	// own count, so token-run prompts can be sized.
	calibrationWords = 200
)

// quotaKind is the quota a run spends.
type quotaKind string

const (
	quotaRequests quotaKind = "quota-requests"
	quotaTokens   quotaKind = "quota-tokens"
	// quotaCompletion spends the token quota with output: short prompts and long completions, so
	// a runtime that charges the prompt alone admits far more than declared.
	quotaCompletion quotaKind = "quota-completion-tokens"
)

// quotaRun is one planned and, once run, recorded quota run.
type quotaRun struct {
	tenant target.Tenant
	kind   quotaKind
	// declared is the quota per second: requests or tokens.
	declared float64
	// offered is the request rate the run sends.
	offered float64
	// promptTokens is the token run's planned prompt length, and the completion run's prompt as
	// the calibration sizes it (0 for a request run).
	promptTokens int
	// maxTokens is the completion run's max_tokens: its planned output (0 for the other runs).
	maxTokens int
	// duration is how long the run sends; warmup how much of its start is not measured.
	duration, warmup time.Duration
	run              *loadRun
	start            time.Time
}

// unit names what the run's quota counts.
func (q *quotaRun) unit() string {
	if q.kind == quotaRequests {
		return "requests"
	}
	return "tokens"
}

// name names the run, for messages.
func (q *quotaRun) name() string {
	switch q.kind {
	case quotaTokens:
		return "token run"
	case quotaCompletion:
		return "completion run"
	}
	return "request run"
}

// planRequestRun is the request run of t, or why t's request quota cannot be measured here.
func planRequestRun(t target.Tenant) (*quotaRun, string) {
	declared := float64(t.Quota.RequestsPerMinute) / 60
	q := &quotaRun{tenant: t, kind: quotaRequests, declared: declared, offered: quotaFactor * declared,
		duration: requestRunDuration, warmup: requestRunWarmup}
	switch {
	case q.offered > quotaLoadShare*env.Target.Capacity.RequestsPerSecond:
		return nil, fmt.Sprintf("its request quota (%.0f/s) is too near the runtime's capacity to be told from load shedding", declared)
	case declared*q.window().Seconds() < minQuotaSamples:
		return nil, fmt.Sprintf("its request quota (%.2f/s) is too low to measure in %s", declared, q.window())
	}
	return q, ""
}

// planTokenRun is the token run of t, or why t's token quota cannot be measured here: the prompt
// must be long enough that the request quota never binds, short enough for the model's context
// and for enough admitted requests in the window, and the load within the runtime's capacity.
func planTokenRun(t target.Tenant) (*quotaRun, string) {
	declared, p := tokensPerRequest(t)
	admitted := declared / float64(p+tokenRunMaxTokens)
	q := &quotaRun{tenant: t, kind: quotaTokens, declared: declared, promptTokens: p, offered: quotaFactor * admitted,
		duration: tokenRunDuration, warmup: tokenRunWarmup}
	if p+tokenRunMaxTokens > model().ContextLength {
		return nil, fmt.Sprintf("spending its token quota (%.0f/s) within its request quota needs prompts of %d tokens, beyond the model's context", declared, p)
	}
	if why := q.tooThin(admitted, fmt.Sprintf("%d tokens", p)); why != "" {
		return nil, why
	}
	return q, ""
}

// tokensPerRequest is t's token quota a second and the tokens each request of a token or
// completion run must spend (in its prompt or its output) so that the request quota never binds:
// the run's admitted requests stay within tokenRunRequestShare of it.
func tokensPerRequest(t target.Tenant) (declared float64, perRequest int) {
	declared = float64(t.Quota.TokensPerMinute) / 60
	requests := float64(t.Quota.RequestsPerMinute) / 60
	return declared, int(math.Ceil(declared / (tokenRunRequestShare * requests)))
}

// tooThin says why a token quota run admitting admitted requests a second (each of what) cannot
// be measured: too few of them in its window, or its offered load too near the runtime's
// capacity to tell the quota from load shedding; "" when it can.
func (q *quotaRun) tooThin(admitted float64, what string) string {
	switch {
	case admitted*q.window().Seconds() < minQuotaSamples:
		return fmt.Sprintf("its token quota (%.0f/s) admits too few requests of %s to measure in %s", q.declared, what, q.window())
	case q.offered > quotaLoadShare*env.Target.Capacity.RequestsPerSecond:
		return fmt.Sprintf("its token quota (%.0f/s) is too near the runtime's capacity to be told from load shedding", q.declared)
	}
	return ""
}

// completionRunWords is a completion run's prompt: a few words, so its requests spend the token
// quota with what they generate.
const completionRunWords = 4

// planCompletionRun is the completion run of t, or why t's token quota cannot be measured with
// output here: each request must generate enough that the request quota never binds, within the
// model's output limit; what the run admits must be within what the runtime generates (the
// target's probe rate times its probe output), within the tenant's concurrency and, request by
// request, well within its classes' deadlines, so that the quota and not the runtime's speed is
// what the run measures; and enough requests to measure.
func planCompletionRun(t target.Tenant) (*quotaRun, string) {
	declared, m := tokensPerRequest(t)
	admitted := declared / float64(m+completionRunWords)
	q := &quotaRun{tenant: t, kind: quotaCompletion, declared: declared, maxTokens: m, offered: quotaFactor * admitted,
		duration: completionRunDuration, warmup: tokenRunWarmup}
	c := env.Target.Capacity
	generates := c.RequestsPerSecond * float64(c.ProbeMaxTokens)
	// A sequence's time a token, by Little's law over the declared capacity, and so a request's.
	takes := time.Duration(float64(m) * float64(c.Concurrency) / max(generates, 1) * float64(time.Second))
	deadline := shortestDeadline(t)
	switch {
	case declared > quotaLoadShare*generates:
		return nil, fmt.Sprintf("its token quota (%.0f/s) is more output than half of what the runtime generates (%.0f tokens/s: %.0f probe requests/s of %d tokens)",
			declared, generates, env.Target.Capacity.RequestsPerSecond, env.Target.Capacity.ProbeMaxTokens)
	case m+completionRunWords > model().ContextLength || (model().MaxOutputTokens > 0 && m > model().MaxOutputTokens):
		return nil, fmt.Sprintf("spending its token quota (%.0f/s) with output within its request quota needs %d output tokens a request, beyond what the model produces", declared, m)
	case deadline > 0 && takes > deadline/2:
		return nil, fmt.Sprintf("a request of %d output tokens takes about %s at the declared capacity, more than half its class deadline of %s", m, takes.Round(time.Millisecond), deadline)
	case t.Quota.MaxConcurrency > 0 && admitted*takes.Seconds() > float64(t.Quota.MaxConcurrency)/2:
		return nil, fmt.Sprintf("%.1f requests of %d output tokens a second, each about %s, hold more than half its concurrency of %d", admitted, m, takes.Round(time.Millisecond), t.Quota.MaxConcurrency)
	}
	if why := q.tooThin(admitted, fmt.Sprintf("%d output tokens", m)); why != "" {
		return nil, why
	}
	return q, ""
}

// shortestDeadline is the shortest deadline among t's declared classes (0 when none declares one):
// a run's requests go to the tenant's default class, whichever that is.
func shortestDeadline(t target.Tenant) time.Duration {
	var out time.Duration
	for _, name := range t.TrafficClasses {
		if k, ok := declaredIn(env.Target.TrafficClasses, name); ok && k.Deadline > 0 && (out == 0 || k.Deadline < out) {
			out = k.Deadline
		}
	}
	return out
}

// tokensPerWord asks the runtime how many tokens a seeded word is, as key: a prompt of
// calibrationWords words, and its usage.
func tokensPerWord(ctx context.Context, key string) float64 {
	res := sendServable(ctx, key, probe(prompt(rng(14), calibrationWords), 1, false), nil)
	Expect(res.Outcome.Served()).To(BeTrue(), "the calibration request of a token run was not served: %s", describe(res))
	Expect(res.Usage.PromptTokens).To(BeNumerically(">", 0), "a served request reported no prompt tokens, so the token quota cannot be measured")
	return float64(res.Usage.PromptTokens) / calibrationWords
}

// execute runs q, sequentially with any other: two runs of one tenant would spend each other's
// quota. perWord sizes a token run's prompts.
func (q *quotaRun) execute(ctx context.Context, stream uint64, perWord float64) {
	r := rng(stream)
	words := 4
	maxTokens := 1
	switch q.kind {
	case quotaTokens:
		words = max(1, int(float64(q.promptTokens)/perWord))
		maxTokens = tokenRunMaxTokens
	case quotaCompletion:
		words, maxTokens = completionRunWords, q.maxTokens
		q.promptTokens = max(1, int(math.Ceil(completionRunWords*perWord)))
	}
	q.start = time.Now()
	q.run = openLoop(ctx, "quota-"+string(q.kind)+"-"+q.tenant.Name, env.Seed+int64(stream), q.offered, q.duration, func(i int) request {
		return quotaRequest(q.tenant, prompt(r, words), maxTokens, i)
	})
}

// quotaRequest is request i of a quota run, by its turn plain HTTP, an HTTP stream (asking for
// usage, so a served stream states its prompt tokens) or gRPC (plain HTTP in gRPC's turn without a
// gRPC address): one quota spent over every wire, so a runtime that charges or refuses one of
// them differently is seen.
func quotaRequest(t target.Tenant, text string, maxTokens, i int) request {
	rq := request{key: t.Key, body: probe(text, maxTokens, false)}
	switch {
	case i%3 == 1:
		rq.body.Stream, rq.body.StreamOptions = true, &openai.StreamOptions{IncludeUsage: true}
	case i%3 == 2 && env.GRPC != nil:
		rq.grpc = true
	}
	return rq
}

// measured is the rate the run had admitted after the warmup, in its quota's unit per second,
// how many admitted requests it rests on, and how many of them a token or completion run counted
// at its planned length because they were served without stating their usage (a stream whose
// runtime ignores stream_options.include_usage). A token run counts a request's prompt and its
// max_tokens of 1; a completion run its prompt and the completion its usage states (an unstated
// prompt at the calibrated length of its words, an unstated completion at the tokens the stream
// delivered, or at max_tokens): what was generated, which is what was charged as long as every
// completion ran to max_tokens (shortCompletions).
func (q *quotaRun) measured() (rate float64, n, estimated int) {
	spent := 0.0
	for _, e := range q.measuredEntries() {
		n++
		switch q.kind {
		case quotaTokens:
			prompt := e.PromptTokens
			if prompt == 0 {
				prompt = q.promptTokens
				estimated++
			}
			spent += float64(prompt + tokenRunMaxTokens)
		case quotaCompletion:
			// A stream's chunks count too: a runtime whose usage understates its output (so that
			// a prompt-only charge would look right) is held to the tokens its client received.
			prompt, completion := e.PromptTokens, max(e.CompletionTokens, e.Tokens)
			if prompt == 0 || completion == 0 {
				prompt, completion = cmp.Or(prompt, q.promptTokens), cmp.Or(completion, q.maxTokens)
				estimated++
			}
			spent += float64(prompt + completion)
		default:
			spent++
		}
	}
	return spent / q.window().Seconds(), n, estimated
}

// shortCompletions counts the completion run's measured requests whose usage states fewer output
// tokens than max_tokens: a runtime may charge max_tokens up front (the completion's length is
// unknown until it ends) or what was generated, and only completions that ran to max_tokens make
// the two the same.
func (q *quotaRun) shortCompletions() int {
	return len(chaosledger.Where(q.measuredEntries(), func(e chaosledger.Entry) bool {
		return e.CompletionTokens > 0 && e.CompletionTokens < q.maxTokens
	}))
}

// measuredEntries are the run's requests served after its warmup: what its rate is measured on.
func (q *quotaRun) measuredEntries() []chaosledger.Entry {
	window := q.start.Add(q.warmup)
	return chaosledger.Where(q.run.entries, func(e chaosledger.Entry) bool { return servedOK(e) && !e.Start.Before(window) })
}

// byWire counts entries per wire, for evidence and samples.
func byWire(entries []chaosledger.Entry) string {
	counts := byPath(entries)
	var parts []string
	for _, p := range []string{viaHTTP, viaHTTPStream, viaCompletions, viaGRPC} {
		if counts[p] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", p, counts[p]))
		}
	}
	return strings.Join(parts, ", ")
}

// window is the part of the run that is measured.
func (q *quotaRun) window() time.Duration { return q.duration - q.warmup }

// refusals are the run's requests that were not served, including any that reached no outcome.
func (q *quotaRun) refusals() []chaosledger.Entry {
	return chaosledger.Where(q.run.entries, func(e chaosledger.Entry) bool { return !servedOK(e) })
}

// describeRuns names the runs, for evidence.
func describeRuns(runs []*quotaRun) string {
	var parts []string
	for _, q := range runs {
		parts = append(parts, fmt.Sprintf("%s %s at %.2f requests/s against %.0f %s/s", q.tenant.Name, q.name(), q.offered, q.declared, q.unit()))
	}
	return strings.Join(parts, "; ")
}
