package suites

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// billSlack is how far a cut stream's billed completion tokens may be from the chunks its client
// counted: the one chunk in flight as the client closed (or as the deadline passed) may have
// gone out without arriving. A statement of usage is matched to the token.
const billSlack = 1

// billProblemsShown bounds how many mismatches a failure message lists.
const billProblemsShown = 3

// Billing matches delivery: whatever the ending, the evidence bills what the client received.
var _ = Describe("Billing", func() {
	It("bills each request the tokens its client received, whatever the ending, at the declared prices", Req("EVD-2"), func(ctx SpecContext) {
		paths := outcomeTransports()
		if env.GRPC == nil {
			noGRPC(pathGRPC)
		}
		samples := runBilling(ctx, billingShots(paths))
		refPrompt := map[string]int{} // per path: the prompt's count, as its completed requests were told
		for _, s := range samples {
			if s.ending == billCompleted && s.usageGiven {
				refPrompt[s.path] = s.prompt
			}
		}
		var problems []string
		ended := map[string]int{}
		var billed, received, unstated int
		for _, s := range samples {
			mustHold(s.err == nil && s.requestID != "", "a %s request over %s as %s could not be exchanged (request %q): %v", s.ending, s.path, s.tenant.Name, s.requestID, s.err)
			recs := evidenceFor(ctx, s.tenant.Key, s.requestID)
			mustHold(len(recs) == 1, "request %s has %d evidence records, want 1", s.requestID, len(recs))
			rec := recs[0]
			ending := billEnding(rec)
			ended[ending]++
			client := billReceived(s, refPrompt)
			if why := billMismatch(s, rec, client); why != "" {
				problems = append(problems, why)
			}
			billed += rec.Tokens.Prompt + rec.Tokens.Completion
			received += client.prompt + client.completion
			if !s.usageGiven {
				unstated++
			}
			judged(s.path, 1)
			judged(ending, 1)
		}
		mustHold(len(problems) == 0, "%d of %d requests were not billed what their client received: %s", len(problems), len(samples),
			strings.Join(problems[:min(len(problems), billProblemsShown)], "; "))
		// The ledger: every token the clients received, and no other, is billed.
		gap := billed - received
		mustHold(gap >= -billSlack*unstated && gap <= billSlack*unstated,
			"over the run's %d requests the evidence bills %d tokens and the clients received %d (at most %d apart, one in flight for each of the %d cut streams)",
			len(samples), billed, received, billSlack*unstated, unstated)
		judged("ledger", len(samples))
		for _, e := range []string{billCancelled, billTimedOut} {
			if ended[e] == 0 {
				notProbed(e, "no request ended %s: the runtime finished even the longest output (%d tokens) within its class deadline, or before its client cut it after %d chunks", e, model().MaxOutputTokens, billCutAfter)
			}
		}
		evidence("%d requests (%d completed, %d cancelled by their client after %d chunks, %d timed out mid-stream) billed %d tokens; their clients received %d",
			len(samples), ended[billCompleted], ended[billCancelled], billCutAfter, ended[billTimedOut], billed, received)
	}, SpecTimeout(specTimeout))
})

// billEnding is the catalogue path of the ending rec records.
func billEnding(rec discovery.Record) string {
	switch {
	case rec.Outcome.Served():
		return billCompleted
	case rec.Reason == outcome.ReasonClientCancelled:
		return billCancelled
	case rec.Outcome == outcome.TimedOut:
		return billTimedOut
	}
	return string(rec.Reason)
}

// billLine is one ledger line: the prompt and completion tokens a client received.
type billLine struct{ prompt, completion int }

// billReceived is what s's client received: the usage stated, else the chunks it counted and the
// prompt's count as the path's completed requests were told it.
func billReceived(s billSample, refPrompt map[string]int) billLine {
	if s.usageGiven {
		return billLine{s.prompt, s.completion}
	}
	return billLine{refPrompt[s.path], s.chunks}
}

// billMismatch says, in a sentence, how rec bills s other than its client received it and at the
// declared prices; empty when it does not.
func billMismatch(s billSample, rec discovery.Record, client billLine) string {
	who := fmt.Sprintf("a %s request over %s (%s/%s, %d chunks received)", s.ending, s.path, rec.Outcome, rec.Reason, s.chunks)
	slack := 0
	if !s.usageGiven {
		slack = billSlack
	}
	near := func(a, b, d int) bool { return a >= b-d && a <= b+d }
	switch {
	case !near(rec.Tokens.Prompt, client.prompt, slack) || !near(rec.Tokens.Completion, client.completion, slack):
		return fmt.Sprintf("%s was billed %d prompt and %d completion tokens; its client received %d and %d", who,
			rec.Tokens.Prompt, rec.Tokens.Completion, client.prompt, client.completion)
	case s.path != pathHTTP && !near(rec.Tokens.Completion, s.chunks, billSlack):
		return fmt.Sprintf("%s billed %d completion tokens; its client counted %d chunks", who, rec.Tokens.Completion, s.chunks)
	}
	if want, ok := declaredCost(rec); !ok {
		return fmt.Sprintf("%s billed %d micro-USD for %d+%d tokens; the declared prices make %d", who, rec.CostMicroUSD, rec.Tokens.Prompt, rec.Tokens.Completion, want)
	}
	return ""
}
