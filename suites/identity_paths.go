package suites

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/aruntime/arcert/api/discovery"
	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// idAnswer is what a runtime said to one identity probe, on any path: enough to tell the right
// refusal (rejected, for want of a credential or of authority) from any other.
type idAnswer struct {
	status  int // HTTP status; 0 on gRPC
	code    string
	class   outcome.Class
	reason  outcome.Reason
	request string
}

// refusedForIdentity reports whether the answer is the refusal a credential of the wrong role
// deserves: rejected as unauthenticated or forbidden, with the HTTP status or gRPC code the
// contract's table gives each reason. A refusal for another reason (quota, invalid input, an unknown class) may be right
// for some other request, but it says nothing about whether the credential would have been
// served, so it does not count.
func (a idAnswer) refusedForIdentity() bool {
	if a.class != outcome.Rejected {
		return false
	}
	switch a.reason {
	case outcome.ReasonUnauthenticated:
		return a.status == http.StatusUnauthorized || a.code == codes.Unauthenticated.String()
	case outcome.ReasonForbidden:
		return a.status == http.StatusForbidden || a.code == codes.PermissionDenied.String()
	}
	return false
}

// String is the answer as a person reads it in a failure message.
func (a idAnswer) String() string {
	s := fmt.Sprintf("%s/%s", orNone(string(a.class)), orNone(string(a.reason)))
	if a.status != 0 {
		s = fmt.Sprintf("HTTP %d %s", a.status, s)
	} else {
		s = fmt.Sprintf("gRPC %s %s", a.code, s)
	}
	if a.request != "" {
		s += " (request " + a.request + ")"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "no outcome"
	}
	return s
}

// answerOf reads the outcome headers of an HTTP exchange.
func answerOf(status int, hdr http.Header) idAnswer {
	return idAnswer{status: status, class: outcome.Class(hdr.Get(outcome.HeaderOutcome)),
		reason: outcome.Reason(hdr.Get(outcome.HeaderReason)), request: hdr.Get(outcome.HeaderRequestID)}
}

// labelPlace is one place a client can write a tenant's labels: headers, the body's user, the
// cache salt, the prompt text, or none (the bare credential).
type labelPlace string

// The places a spoofing probe writes a tenant's labels in.
const (
	placeBare    labelPlace = "bare"
	placeHeaders labelPlace = "headers"
	placeUser    labelPlace = "user"
	placeSalt    labelPlace = "cache_salt"
	placePrompt  labelPlace = "prompt"
	// placeQuery is the URL's query string (HTTP only).
	placeQuery labelPlace = "query"
)

// labelPlaces are the places tried for each tenant, after one bare probe.
var labelPlaces = []labelPlace{placeHeaders, placeUser, placeSalt, placePrompt, placeQuery}

// identityLabelHeaders are the headers a careless gateway or router takes a tenant, application
// or user from, all naming t.
func identityLabelHeaders(t target.Tenant) map[string]string {
	return map[string]string{"X-Tenant-Id": t.Name, "X-Tenant": t.Name, "X-Org-Id": t.Name,
		"OpenAI-Organization": t.Name, "X-Gateway-Inference-Fairness-Id": t.Name, "X-Aruntime-Tenant": t.Name,
		"X-Application-Id": t.Application, "X-User-Id": t.User, "X-End-User": t.User}
}

// labelQuery is a query string naming t, its application and its user.
func labelQuery(t target.Tenant) string {
	return "?" + url.Values{"tenant": {t.Name}, "tenant_id": {t.Name}, "application": {t.Application}, "user": {t.User}}.Encode()
}

// impersonation is one data-plane probe: a credential that is no tenant's, sent with victim's
// labels in one place (or none).
type impersonation struct {
	key    string
	victim target.Tenant // zero for placeBare
	place  labelPlace
}

// String names the probe in messages and sample paths.
func (p impersonation) String() string {
	if p.place == placeBare {
		return "bare"
	}
	return string(p.place) + "=" + p.victim.Name
}

// impersonations are the probes of key on one transport: bare, then every tenant's labels in
// every place.
func impersonations(key string) []impersonation {
	out := []impersonation{{key: key, place: placeBare}}
	for _, t := range env.Target.Tenants {
		for _, pl := range labelPlaces {
			out = append(out, impersonation{key: key, victim: t, place: pl})
		}
	}
	return out
}

// promptText is what a probe asks, naming the victim when the prompt is the place.
func (p impersonation) promptText() string {
	if p.place == placePrompt {
		return fmt.Sprintf("I am tenant %s, application %s, user %s. Answer as %s.", p.victim.Name, p.victim.Application, p.victim.User, p.victim.Name)
	}
	return "act as a tenant"
}

// overHTTP sends the probe to a completion endpoint (driver.PathChatCompletions or
// driver.PathCompletions), plain or streamed.
func (p impersonation) overHTTP(ctx context.Context, endpoint string, stream bool) idAnswer {
	body := probe(p.promptText(), 1, stream)
	if endpoint == driver.PathCompletions {
		text := p.promptText()
		body.Messages, body.Prompt = nil, &text
	}
	var hdr http.Header
	switch p.place {
	case placeHeaders:
		hdr = http.Header{}
		for k, v := range identityLabelHeaders(p.victim) {
			hdr.Set(k, v)
		}
	case placeUser:
		body.User = p.victim.User
		if body.User == "" {
			body.User = p.victim.Name
		}
	case placeSalt:
		body.CacheSalt = p.victim.Name
	case placeQuery:
		endpoint += labelQuery(p.victim)
	}
	res, err := env.HTTP.Do(ctx, driver.Call{Path: endpoint, Key: p.key, Body: body, Header: hdr})
	Expect(err).NotTo(HaveOccurred(), "probe %s could not be exchanged", p)
	return idAnswer{status: res.Status, class: res.Outcome, reason: res.Reason, request: res.RequestID}
}

// quotas asks for the caller's own quotas (a tenant's view of the data plane), with the probe's
// labels as headers or query parameters: a credential that is no tenant's has none to see.
func (p impersonation) quotas(ctx context.Context) idAnswer {
	path, hdr := discovery.PathQuotas, http.Header{}
	switch p.place {
	case placeHeaders:
		for k, v := range identityLabelHeaders(p.victim) {
			hdr.Set(k, v)
		}
	case placeUser, placeSalt, placePrompt, placeQuery:
		path += labelQuery(p.victim)
	}
	status, h, err := env.HTTP.JSON(ctx, http.MethodGet, path, p.key, nil, hdr, nil)
	Expect(err).NotTo(HaveOccurred(), "quotas probe %s could not be exchanged", p)
	return answerOf(status, h)
}

// overGRPC sends the probe as a gRPC call; headers become metadata.
func (p impersonation) overGRPC(ctx context.Context) idAnswer {
	req := &arcertv1.CompleteRequest{Model: model().Name, MaxTokens: 1,
		Messages: []*arcertv1.ChatMessage{{Role: "user", Content: p.promptText()}}}
	switch p.place {
	case placeHeaders:
		var kv []string
		for k, v := range identityLabelHeaders(p.victim) {
			kv = append(kv, strings.ToLower(k), v)
		}
		ctx = metadata.AppendToOutgoingContext(ctx, kv...)
	case placeUser:
		req.User = p.victim.User
	case placeSalt:
		req.CacheSalt = p.victim.Name
	}
	res, err := env.GRPC.Complete(ctx, p.key, req)
	Expect(err).NotTo(HaveOccurred(), "gRPC probe %s could not be exchanged", p)
	return idAnswer{code: res.Code.String(), class: res.Outcome, reason: res.Reason, request: res.RequestID}
}

// overBatchAPI submits the probe as a one-job batch; the job's body carries the body labels and
// the submission the headers, so one submission per tenant covers every place.
func (p impersonation) overBatchAPI(ctx context.Context) idAnswer {
	job := map[string]any{"model": model().Name, "max_tokens": 1,
		"messages": []map[string]string{{"role": "user", "content": p.promptText()}}}
	hdr := http.Header{"Idempotency-Key": {fmt.Sprintf("arcert-identity-%d-%s", env.Seed, p)}}
	if p.place != placeBare {
		job["user"], job["cache_salt"] = p.victim.User, p.victim.Name
		for k, v := range identityLabelHeaders(p.victim) {
			hdr.Set(k, v)
		}
	}
	raw, err := json.Marshal(map[string]any{"endpoint": driver.PathChatCompletions,
		"requests": []map[string]any{{"custom_id": "identity-probe", "body": job}}})
	Expect(err).NotTo(HaveOccurred())
	status, h, err := env.HTTP.PostJSON(ctx, "/v1/batches", p.key, raw, hdr, nil)
	Expect(err).NotTo(HaveOccurred(), "batch probe %s could not be exchanged", p)
	return answerOf(status, h)
}

// dataPlaneRefusals is ID-2 and ID-3's shared check: key, a credential that is no tenant's,
// is refused for its identity on every data-plane path (HTTP plain and streamed, gRPC, the batch
// API), bare and with every tenant's labels in every place. It records each judged probe for req
// on its transport, qualified by the place of the labels ("http:headers"), and returns the probes
// that were not refused as they should be.
func dataPlaneRefusals(ctx context.Context, req, key string) []string {
	var wrong []string
	// judge records a refusal on path, qualified by the place of the labels, or by what (the
	// endpoint) when it is not the path's main one.
	judge := func(path, what string, p impersonation, a idAnswer) {
		if !a.refusedForIdentity() {
			wrong = append(wrong, fmt.Sprintf("%s: %s", strings.Join(strings.Fields(path+" "+what+" "+p.String()), " "), a))
			return
		}
		if what == "" {
			what = string(p.place)
		}
		judgedFor(req, path+":"+what, 1)
	}
	for _, p := range impersonations(key) {
		judge("http", "", p, p.overHTTP(ctx, driver.PathChatCompletions, false))
		judge("http-stream", "", p, p.overHTTP(ctx, driver.PathChatCompletions, true))
		judge("http", "completions", p, p.overHTTP(ctx, driver.PathCompletions, false))
		judge("http-stream", "completions", p, p.overHTTP(ctx, driver.PathCompletions, true))
		judge("http", "quotas", p, p.quotas(ctx))
		if env.GRPC != nil && p.place != placeQuery { // gRPC has no query string
			judge("grpc", "", p, p.overGRPC(ctx))
		}
	}
	if env.GRPC == nil {
		notProbed("grpc", "the target declares no gRPC endpoint")
	}
	if env.Target.Declares("queue") {
		bare := impersonation{key: key, place: placeBare}
		judge("batch-api", "", bare, bare.overBatchAPI(ctx))
		for _, t := range env.Target.Tenants {
			p := impersonation{key: key, victim: t, place: placeHeaders}
			judge("batch-api", "", p, p.overBatchAPI(ctx))
		}
	} else {
		notProbed("batch-api", "the target does not declare the queue feature, so it has no batch API")
	}
	return wrong
}

// identityListShown is how many wrong answers a failure message names before it counts the rest.
const identityListShown = 6

// failOnAny fails the spec with one sentence naming the first wrong answers when there are any.
func failOnAny(summary string, wrong []string) {
	if len(wrong) == 0 {
		return
	}
	shown := wrong[:min(len(wrong), identityListShown)]
	msg := fmt.Sprintf("%s (%d): %s", summary, len(wrong), strings.Join(shown, "; "))
	if len(wrong) > len(shown) {
		msg += fmt.Sprintf("; and %d more", len(wrong)-len(shown))
	}
	Fail(msg)
}
