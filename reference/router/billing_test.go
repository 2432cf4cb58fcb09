package router

import (
	"testing"

	"github.com/aruntime/arcert/api/outcome"
)

// streamed is an emitter that delivers every token it takes (a stream).
type streamed struct{}

func (streamed) start(ending) error { return nil }
func (streamed) token(string) error { return nil }

// plain withholds an unserved request's output, as a plain HTTP body does.
type plain struct{ streamed }

func (plain) withholds() bool { return true }

func TestDeliveredBillsEveryEndingAsItWentOut(t *testing.T) {
	j := job{c: Completion{PromptTokens: 7, MaxTokens: 100}}
	partial := func(reason outcome.Reason) ending {
		return ending{class: reason.Class(), reason: reason, started: true, delivered: 12}
	}
	cases := []struct {
		name string
		end  ending
		em   emitter
		want tokenUsage
	}{
		{"completed as counted", ending{class: outcome.Completed, started: true, delivered: 9, reported: true, usage: tokenUsage{Prompt: 7, Completion: 9, Cached: 3}}, streamed{}, tokenUsage{Prompt: 7, Completion: 9, Cached: 3}},
		{"client cancelled", partial(outcome.ReasonClientCancelled), streamed{}, tokenUsage{Prompt: 7, Completion: 12}},
		{"deadline", partial(outcome.ReasonDeadline), streamed{}, tokenUsage{Prompt: 7, Completion: 12}},
		{"worker lost", partial(outcome.ReasonWorkerLost), streamed{}, tokenUsage{Prompt: 7, Completion: 12}},
		{"an ending yet to be named", partial(outcome.Reason("client_too_slow")), streamed{}, tokenUsage{Prompt: 7, Completion: 12}},
		{"plain body never sent", partial(outcome.ReasonDeadline), plain{}, tokenUsage{Prompt: 7}},
		{"before the first token", ending{class: outcome.TimedOut, reason: outcome.ReasonDeadline}, streamed{}, tokenUsage{}},
	}
	for _, c := range cases {
		if got := delivered(j, c.end, c.em); got != c.want {
			t.Errorf("%s: billed %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestBillingDefectsBillSomethingElse(t *testing.T) {
	j := job{c: Completion{PromptTokens: 7, MaxTokens: 100}}
	cut := ending{class: outcome.Failed, reason: outcome.ReasonClientCancelled, started: true, delivered: 12, usage: tokenUsage{Prompt: 7, Completion: 12}}
	if got := (BillingDefects{}).evidence(j, cut); got != cut.usage {
		t.Errorf("conformant: %+v", got)
	}
	if got := (BillingDefects{OnlyCompleted: true}).evidence(j, cut); got != (tokenUsage{}) {
		t.Errorf("only completed: %+v", got)
	}
	if got := (BillingDefects{RequestedNotDelivered: true}).evidence(j, cut); got.Completion != 100 {
		t.Errorf("requested: %+v", got)
	}
}
