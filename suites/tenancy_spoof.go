package suites

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// spoofPlace is one place a client can write a label, filled with one of the victim's labels.
type spoofPlace struct {
	// place names where the label went ("header", "user+cache_salt", "prompt"), label which.
	place, label string
	spoof        labelSpoof
	text         string
}

// placeWords says in words where a spoofed label went.
var placeWords = map[string]string{"header": "in identity headers", "metadata": "in call metadata",
	"user+cache_salt": "as the body's user and cache_salt", "prompt": "in the prompt text"}

// spoofPlaces are the requests that write victim's labels into every place a client controls:
// identity-looking headers (call metadata on gRPC) with all of them at once, then each label alone
// as both the body's user and cache_salt (one request: a runtime that takes the tenant from either
// field records the wrong tenant, and one request per label keeps the smallest quota's share of
// the spec short), and all of them in the prompt text.
func spoofPlaces(victim target.Tenant) []spoofPlace {
	plain := "say something short"
	every := "every label of " + victim.Name
	out := []spoofPlace{{place: "header", label: every, spoof: labelSpoof{Header: spoofHeaders(victim)}, text: plain}}
	for _, l := range tenantLabels(victim) {
		label := victim.Name + "'s " + l.String()
		out = append(out, spoofPlace{place: "user+cache_salt", label: label, spoof: labelSpoof{User: l.value, Salt: l.value}, text: plain})
	}
	return append(out, spoofPlace{place: "prompt", label: every, text: spoofText(victim)})
}

// spoofProblem says how the evidence of caller's request, which carried victim's labels, shows a
// label changed who the request belongs to or is billed to; "" when it does not. recs is what
// caller reads of the request, leaked what victim reads of it, op what the operator reads.
func spoofProblem(caller, victim target.Tenant, v spoofView) string {
	recs, leaked, op := v.own, v.leaked, v.op // what caller, victim and operator read
	switch {
	case len(recs) == 0 && len(op) > 0:
		return fmt.Sprintf("recorded as tenant %q, application %q, user %q, cost center %q", op[0].Tenant, op[0].Application, op[0].User, op[0].CostCenter)
	case len(recs) == 0 && len(leaked) > 0:
		return "recorded where " + victim.Name + " reads it and " + caller.Name + " does not"
	case len(recs) != 1:
		return fmt.Sprintf("%s reads %d evidence records of its own request, not 1", caller.Name, len(recs))
	}
	r := recs[0]
	var wrong []string
	check := func(what, got, want string) {
		if want != "" && got != want {
			wrong = append(wrong, fmt.Sprintf("%s %q instead of %q", what, got, want))
		}
	}
	check("tenant", r.Tenant, caller.Name)
	check("application", r.Application, caller.Application)
	check("user", r.User, caller.User)
	check("cost center", r.CostCenter, caller.CostCenter)
	var out []string
	if len(wrong) > 0 {
		out = append(out, "recorded with "+strings.Join(wrong, ", "))
	}
	if len(leaked) > 0 {
		out = append(out, victim.Name+" can read its evidence")
	}
	return strings.Join(out, ", and ")
}

// credentialOnly is TEN-1's evidence and billing half: every tenant sends, over every transport,
// requests carrying every label of every other tenant in every place a client can write one (a
// caller whose small quota would pace the spec names its victims in turns over the transports, see
// spoofPaced and spoofTurn), and
// each request's evidence must name the caller as tenant, application, user and cost center, and
// stay invisible to the tenant it named. Each caller sends its requests in turn, the callers at
// once: the smallest quota sets the pace, and the others need not wait for it. It returns how many
// requests it judged.
func credentialOnly(ctx context.Context, vias []string) int {
	var (
		mu       sync.Mutex
		problems []string
		paths    = map[string]int{}
		n        int
		wg       sync.WaitGroup
	)
	var paced []string
	tenants := env.Target.Tenants
	for ci, caller := range tenants {
		isPaced := spoofPaced(caller, len(tenants)-1, len(vias))
		if isPaced {
			paced = append(paced, caller.Name)
		}
		wg.Go(func() {
			defer GinkgoRecover()
			for vi, victim := range tenants {
				if vi == ci {
					continue
				}
				for j, via := range vias {
					if isPaced && !spoofTurn(len(tenants), ci, vi, j) {
						continue // another caller names this victim over this transport
					}
					for _, sp := range spoofPlaces(victim) {
						place := sp.place
						if place == "header" && via == viaGRPC {
							place = "metadata"
						}
						c := callAs(ctx, via, caller, sp.text, 2, sp.spoof)
						if c.Reason == outcome.ReasonQuotaExceeded {
							// callAs waited for the caller's own allowance: a quota refusal is a
							// quota charged to a tenant that did not send the request, the one
							// this request named or the caller named by another's request.
							Fail(fmt.Sprintf("%s's request over %s with %s %s was refused %s although %s's own quota allowed it just before: requests are charged to a tenant they name (%s's quota for this one, or %s's for another tenant's request naming it) (%s)",
								caller.Name, via, sp.label, placeWords[place], c.Reason, caller.Name, victim.Name, caller.Name, c.desc))
						}
						mustBeServed(c, "%s's request over %s with %s %s", caller.Name, via, sp.label, placeWords[place])
						p := spoofProblem(caller, victim, spoofEvidence(ctx, c.ID, caller, victim))
						mu.Lock()
						if p != "" {
							problems = append(problems, fmt.Sprintf("%s over %s with %s %s: %s", caller.Name, via, sp.label, placeWords[place], p))
						}
						paths[via+":"+place]++
						paths["tenant:"+caller.Name]++
						n++
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Wait()
	for p, k := range paths {
		judged(p, k)
	}
	evidence("%d requests, each tenant naming each other tenant over %s in headers, user and cache_salt, and prompt text: %d changed who was recorded or billed",
		n, strings.Join(vias, ", "), len(problems))
	if len(paced) > 0 {
		evidence("%s: the request quota would take seconds to carry every victim on every transport, so each names each victim over its turn of the transports; every victim is named over every transport in every place by some caller",
			strings.Join(paced, ", "))
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		Fail(fmt.Sprintf("%d of %d requests carrying another tenant's labels were not recorded as the caller's own: %s",
			len(problems), n, strings.Join(firstOf(problems, 3), "; ")))
	}
	return n
}

// spoofPaced reports whether caller's request quota would take more than a second to carry its
// whole grid (every victim over every transport in every place), so that it would set the pace of
// the whole spec. A paced caller names each victim over the transports spoofTurn gives it; an
// unpaced caller sends the whole grid.
func spoofPaced(caller target.Tenant, victims, vias int) bool {
	perSecond := caller.Quota.Requests() / 60
	grid := victims * vias * (2 + len(tenantLabels(caller)))
	return victims >= 2 && perSecond < grid
}

// spoofTurn reports whether caller names victim over transport via when callers are paced: each
// (victim, transport) pair has one designated caller, never the victim itself, and the designated
// callers of a victim rotate over the transports. Every pair is then named by its designated
// caller, paced or not (an unpaced caller names every pair), and a paced caller names each of its
// victims over at least one transport whenever there are as many transports as other tenants.
// Indices are those of the target's tenants.
func spoofTurn(tenants, caller, victim, via int) bool {
	return (victim+1+via%(tenants-1))%tenants == caller
}

// firstOf returns at most n of xs, noting how many more there were.
func firstOf(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(xs[:n:n], fmt.Sprintf("and %d more", len(xs)-n))
}
