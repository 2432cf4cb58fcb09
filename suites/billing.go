package suites

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// billSlack is how far a cut stream's billed completion tokens may be from the tokens its client
// counted (delivered): the chunks in flight as the client closed (or as the deadline passed) may
// have gone out without arriving. Two: a write to a connection its peer has closed succeeds once
// (the peer's reset fails the next), so a runtime learns of the close one chunk late; behind a
// proxy that copies the connection (Docker's, in the Compose deployment), the proxy takes one more
// before it closes its side. The Compose run of 2026-12-08 billed a stream cut after 6 chunks 8,
// its runtime unable to know better. Every billing control bills 0 or all of max_tokens (256), far
// outside it. A statement of usage is matched to the token.
const billSlack = 2

// tokenRange narrows the path of a stream whose bill could be checked only against a range of
// tokens (delivered), so that a PASS says how many of its samples rest on a range.
const tokenRange = ":token-range"

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
		// per path: what its completed streams stated of their tokens, which says whether its
		// messages carry a token each and narrows the range of one that carries several
		stated := map[string]*statedTokens{}
		for _, p := range paths {
			stated[p] = &statedTokens{}
		}
		for _, s := range samples {
			if s.ending == billCompleted && s.usageGiven {
				refPrompt[s.path] = s.prompt
				if s.path != pathHTTP {
					stated[s.path].add(s.chunks, s.completion)
				}
			}
		}
		var problems []string
		ended := map[string]int{}
		var billed, received, unstated, spread, ranged int
		for _, s := range samples {
			mustHold(s.err == nil && s.requestID != "", "a %s request over %s as %s could not be exchanged (request %q): %v", s.ending, s.path, s.tenant.Name, s.requestID, s.err)
			recs := evidenceFor(ctx, s.tenant.Key, s.requestID)
			mustHold(len(recs) == 1, "request %s has %d evidence records, want 1", s.requestID, len(recs))
			rec := recs[0]
			ending := billEnding(rec)
			ended[ending]++
			got := stated[s.path].of(s.chunks, s.received)
			client := billReceived(s, refPrompt, got)
			if why := billMismatch(s, rec, client, got); why != "" {
				problems = append(problems, why)
			}
			billed += rec.Tokens.Prompt + rec.Tokens.Completion
			received += client.prompt + client.completion.least
			spread += client.completion.most - client.completion.least
			if !s.usageGiven {
				unstated++
			}
			// A stream whose chunks carried several tokens each was checked against a range, not a
			// count: it is judged on its path marked so, and the evidence counts them.
			basis := got
			if s.path == pathHTTP {
				basis = delivered{} // a plain body has no chunks: its stated usage alone is judged
			}
			if !basis.exact() {
				ranged++
			}
			judged(basis.on(s.path), 1)
			judged(basis.on(ending), 1)
		}
		mustHold(len(problems) == 0, "%d of %d requests were not billed what their client received: %s", len(problems), len(samples),
			strings.Join(problems[:min(len(problems), billProblemsShown)], "; "))
		// The ledger: every token the clients received, and no other, is billed (to the range the
		// clients could count, where a runtime sent several tokens to a message).
		gap := billed - received
		mustHold(gap >= -billSlack*unstated && gap <= billSlack*unstated+spread,
			"over the run's %d requests the evidence bills %d tokens and the clients received %d (at most %d apart, one in flight for each of the %d cut streams, %d more where several tokens came in a message)",
			len(samples), billed, received, billSlack*unstated, unstated, spread)
		judged("ledger", len(samples))
		for _, e := range []string{billCancelled, billTimedOut} {
			if ended[e] == 0 {
				notProbed(e, "no request ended %s: the runtime finished even the longest output (%d tokens) within its class deadline, or before its client cut it after %d chunks", e, model().MaxOutputTokens, billCutAfter)
			}
		}
		evidence("%d requests (%d completed, %d cancelled by their client after %d chunks, %d timed out mid-stream) billed %d tokens; their clients received %d",
			len(samples), ended[billCompleted], ended[billCancelled], billCutAfter, ended[billTimedOut], billed, received)
		if ranged > 0 {
			evidence("%d streams came from a wire sending several tokens to a message, so their clients could bound what they received but not count it (%d tokens of range in all over the cut ones): their bills, and the usage the served ones stated, were checked against that range, on the paths marked %s",
				ranged, spread, tokenRange)
		}
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
type billLine struct {
	prompt     int
	completion delivered
}

// billReceived is what s's client received: the usage stated, else got, the tokens its chunks
// carried, and the prompt's count as the path's completed requests were told it.
func billReceived(s billSample, refPrompt map[string]int, got delivered) billLine {
	if s.usageGiven {
		return billLine{s.prompt, delivered{s.completion, s.completion}}
	}
	return billLine{refPrompt[s.path], got}
}

// billMismatch says, in a sentence, how rec bills s other than its client received it and at the
// declared prices; empty when it does not. got is the tokens s's chunks carried, which a stated
// usage must agree with too.
func billMismatch(s billSample, rec discovery.Record, client billLine, got delivered) string {
	who := fmt.Sprintf("a %s request over %s (%s/%s, %d chunks received)", s.ending, s.path, rec.Outcome, rec.Reason, s.chunks)
	slack := 0
	if !s.usageGiven {
		slack = billSlack
	}
	near := func(a, b, d int) bool { return a >= b-d && a <= b+d }
	switch {
	case !near(rec.Tokens.Prompt, client.prompt, slack) || !client.completion.holds(rec.Tokens.Completion, slack):
		return fmt.Sprintf("%s was billed %d prompt and %d completion tokens; its client received %d and %s", who,
			rec.Tokens.Prompt, rec.Tokens.Completion, client.prompt, client.completion)
	case s.path != pathHTTP && !got.holds(rec.Tokens.Completion, billSlack):
		return fmt.Sprintf("%s billed %d completion tokens; its client's chunks carried %s", who, rec.Tokens.Completion, got)
	}
	if want, ok := declaredCost(rec); !ok {
		return fmt.Sprintf("%s billed %d micro-USD for %d+%d tokens; the declared prices make %d", who, rec.CostMicroUSD, rec.Tokens.Prompt, rec.Tokens.Completion, want)
	}
	return ""
}
