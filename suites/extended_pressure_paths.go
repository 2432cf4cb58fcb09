package suites

import (
	"context"
	"fmt"
	"strings"
	"time"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// pressureResult is one probe under device pressure, whichever client path carried it.
type pressureResult struct {
	id         string
	class      outcome.Class
	reason     outcome.Reason
	servedBy   outcome.ServedBy
	retryAfter bool // Retry-After over HTTP, google.rpc.RetryInfo over gRPC
	// retryAfterD is the retry delay the answer gave, 0 for none.
	retryAfterD time.Duration
	latency     time.Duration
	violations  []string
}

// pressureProbe sends one request as key on path while every device is under pressure.
func pressureProbe(ctx context.Context, key, path, text string) pressureResult {
	if path == opsGRPC {
		res, err := env.GRPC.Complete(ctx, key, &arcertv1.CompleteRequest{Model: model().Name,
			Messages: []*arcertv1.ChatMessage{{Role: "user", Content: text}}, MaxTokens: 2})
		opsCheck(err == nil, "a gRPC probe under pressure could not be exchanged: %v", err)
		return pressureResult{id: res.RequestID, class: res.Outcome, reason: res.Reason, servedBy: res.ServedBy, retryAfter: res.RetryAfter > 0,
			retryAfterD: res.RetryAfter, latency: res.Latency, violations: res.ContractViolations}
	}
	res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: key, Body: probe(text, 2, path == opsHTTPStream)})
	opsCheck(err == nil, "a %s probe under pressure could not be exchanged: %v", path, err)
	return pressureResult{id: res.RequestID, class: res.Outcome, reason: res.Reason, servedBy: res.ServedBy, retryAfter: res.RetryAfter > 0,
		retryAfterD: res.RetryAfter, latency: res.Latency, violations: res.ContractViolations}
}

// pressureRoundGap spaces the rounds of pressure probes (one per tenant and client path each), so
// that every tenant's probes span pressureProbes x paths x gap, about 1.5 s with the reference's
// target: several health polls of a router that learns of pressure by polling, so a rule broken
// only once the router knows (a hosted fallback chosen for pressure, say) is caught for every
// tenant, not only for the last one probed.
const pressureRoundGap = 125 * time.Millisecond

// judgePressureShedding sends pressureProbes requests per tenant and client path, tenants in
// turn, while every device is under pressure, and requires each to be shed with device_pressure
// (and Retry-After on HTTP) within its class deadline, its evidence saying the same: with every worker under pressure no
// place is relieved, and a hosted provider is no place the pressure policy declares, whatever the
// tenant's fallback policy allows. It returns a summary for the evidence.
func judgePressureShedding(ctx context.Context) string {
	paces := map[string]func(context.Context){}
	last := map[string]string{}
	for _, t := range env.Target.Tenants {
		paces[t.Name] = quotaPacer(t)
	}
	round := time.NewTicker(pressureRoundGap)
	defer round.Stop()
	n := 0
	for i := range pressureProbes {
		for _, path := range clientPaths() {
			for _, t := range env.Target.Tenants {
				paces[t.Name](ctx)
				var res pressureResult
				overQuota(ctx, t, func() (outcome.Reason, time.Duration) {
					res = pressureProbe(ctx, t.Key, path, fmt.Sprintf("shed under device pressure? %s %d", t.Name, i))
					return res.reason, res.retryAfterD
				})
				opsCheck(len(res.violations) == 0, "%s probe as %s under pressure broke the contract: %s", path, t.Name, strings.Join(res.violations, "; "))
				opsCheck(!res.class.Served(), "%s probe as %s under pressure on every worker was served (%s/%s by %s) instead of shed with device_pressure",
					path, t.Name, res.class, res.reason, res.servedBy)
				opsCheck(res.class == outcome.Shed && res.reason == outcome.ReasonDevicePressure,
					"%s probe as %s under pressure ended %s/%s, not shed/device_pressure", path, t.Name, res.class, res.reason)
				opsCheck(res.retryAfter, "%s probe as %s was shed under pressure without a retry delay (%s)", path, t.Name, retryHintName(path))
				if d := classDeadline("", t); d > 0 {
					opsCheck(res.latency <= d+faultDeadlineTolerance, "%s probe as %s was shed under pressure after %s, past its class deadline %s and the %s tolerance",
						path, t.Name, res.latency.Round(time.Millisecond), d, faultDeadlineTolerance)
				}
				judged(path, 1)
				judged("tenant:"+t.Name, 1)
				last[t.Name] = res.id
				n++
			}
			select {
			case <-round.C:
			case <-ctx.Done():
			}
		}
	}
	for _, t := range env.Target.Tenants {
		recs := evidenceFor(ctx, t.Key, last[t.Name])
		opsCheck(recs[0].Reason == outcome.ReasonDevicePressure, "the evidence of %s's shed request %s names %s, not device_pressure", t.Name, last[t.Name], recs[0].Reason)
	}
	return fmt.Sprintf("all %d probes of %d tenants shed with device_pressure on %s", n, len(env.Target.Tenants), strings.Join(clientPaths(), ", "))
}

// quotaHeadroomFactor stretches the gap between a tenant's probes beyond its declared request
// rate, so probes paced by quotaPacer stay inside the quota even with earlier work still counted.
const quotaHeadroomFactor = 1.25

// quotaPacer returns a wait that keeps t's probes within its declared requests per minute: a
// refusal for quota would say nothing about the rule being probed. The first call does not wait.
func quotaPacer(t target.Tenant) func(context.Context) {
	var gap time.Duration
	if rpm := t.Quota.RequestsPerMinute; rpm > 0 {
		gap = time.Duration(quotaHeadroomFactor * float64(time.Minute) / float64(rpm))
	}
	var last time.Time
	return func(ctx context.Context) {
		if wait := time.Until(last.Add(gap)); !last.IsZero() && wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
			}
		}
		last = time.Now()
	}
}
