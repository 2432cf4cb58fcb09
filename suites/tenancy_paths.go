package suites

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc/metadata"

	"github.com/aruntime/arcert/api/discovery"
	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// tenancyTransports are the data-plane transports the target offers, in a fixed order; for each
// one it lacks, the spec records why it was not probed.
func tenancyTransports() []string {
	vias := []string{viaHTTP}
	if env.Target.Declares("streaming") {
		vias = append(vias, viaHTTPStream)
	} else {
		notProbed(viaHTTPStream, "the target does not declare streaming")
	}
	if env.GRPC != nil && env.Target.Declares("grpc") {
		vias = append(vias, viaGRPC)
	} else {
		notProbed(viaGRPC, "the target declares no gRPC endpoint")
	}
	return vias
}

// tenancyEndpoints are tenancyTransports plus the legacy completions endpoint, for the specs
// whose rule holds for every endpoint of the data plane. A cache probe sends A's and B's requests
// on the same one: a plain prompt shares no prefix with a chat template's.
func tenancyEndpoints() []string { return append(tenancyTransports(), viaCompletions) }

// labelSpoof is what a client wrote of its own accord into one request: headers (gRPC metadata on
// gRPC), the body's user and cache_salt, and the traffic class it asked for. None of it may change
// who the request belongs to.
type labelSpoof struct {
	Header     http.Header
	User, Salt string
	Class      string
	// Primary sends the call to the target's first router only, whatever the spread: for
	// spends judged by quota readings, which are that router's (a runtime may keep a quota
	// bucket per router, and a spend on another would not show in them).
	Primary bool
}

// labelCall is one tenancy probe's answer, the same for every transport.
type labelCall struct {
	ID                         string
	Served                     bool
	Outcome                    outcome.Class
	Reason                     outcome.Reason
	Prompt, Completion, Cached int
	Worker                     string
	desc                       string
}

// callVia sends one chat completion of content as key over via, with the labels of sp.
func callVia(ctx context.Context, via, key, content string, maxTokens int, sp labelSpoof) labelCall {
	if via == viaGRPC {
		return callGRPC(ctx, key, content, maxTokens, sp)
	}
	body := probe(content, maxTokens, via == viaHTTPStream)
	body.User, body.CacheSalt = sp.User, sp.Salt
	path := driver.PathChatCompletions
	if via == viaCompletions {
		path, body.Messages, body.Prompt = driver.PathCompletions, nil, &content
	}
	hdr := sp.Header.Clone()
	if sp.Class != "" {
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set(outcome.HeaderTrafficClass, sp.Class)
	}
	client := env.HTTP
	if sp.Primary {
		client = client.At(0)
	}
	res, err := client.Do(ctx, driver.Call{Path: path, Key: key, Body: body, Header: hdr})
	Expect(err).NotTo(HaveOccurred(), "request could not be exchanged")
	return labelCall{ID: res.RequestID, Served: res.Outcome.Served(), Outcome: res.Outcome, Reason: res.Reason,
		Prompt: res.Usage.PromptTokens, Completion: res.Usage.CompletionTokens, Cached: res.Usage.PromptTokensDetails.CachedTokens,
		Worker: res.ServedBy.Worker, desc: via + " " + describe(res)}
}

// callGRPC is callVia over gRPC: sp's headers travel as call metadata.
func callGRPC(ctx context.Context, key, content string, maxTokens int, sp labelSpoof) labelCall {
	md := metadata.MD{}
	for k, vs := range sp.Header {
		md.Append(strings.ToLower(k), vs...)
	}
	if len(md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, md)
	}
	client := env.GRPC
	if sp.Primary {
		client = client.Primary()
	}
	res, err := client.Complete(ctx, key, &arcertv1.CompleteRequest{Model: model().Name, MaxTokens: int64(maxTokens),
		Messages: []*arcertv1.ChatMessage{{Role: "user", Content: content}}, User: sp.User, CacheSalt: sp.Salt, TrafficClass: sp.Class})
	Expect(err).NotTo(HaveOccurred(), "gRPC call could not be exchanged")
	c := labelCall{ID: res.RequestID, Served: res.Outcome.Served(), Outcome: res.Outcome, Reason: res.Reason, Worker: res.ServedBy.Worker,
		desc: fmt.Sprintf("grpc code %s, outcome %s/%s, request %s, violations: %s", res.Code, res.Outcome, res.Reason, res.RequestID, listed(res.ContractViolations))}
	if u := res.Usage; u != nil {
		c.Prompt, c.Completion, c.Cached = int(u.GetPromptTokens()), int(u.GetCompletionTokens()), int(u.GetCachedTokens())
	}
	return c
}

// tenantLabel is one label the target gives a tenant: its kind ("name", "application", "user")
// and value.
type tenantLabel struct{ kind, value string }

func (l tenantLabel) String() string { return fmt.Sprintf("%s %q", l.kind, l.value) }

// tenantLabels are the labels the target gives tenant t, the ones a client could write to pass
// as t: its name, application and end user. Empty ones are left out.
func tenantLabels(t target.Tenant) []tenantLabel {
	var out []tenantLabel
	for _, l := range []tenantLabel{{"name", t.Name}, {"application", t.Application}, {"user", t.User}} {
		if l.value != "" {
			out = append(out, l)
		}
	}
	return out
}

// spoofHeaders are the client-controlled headers a careless gateway takes identity from, each
// naming victim's matching label: tenant, organisation and fairness ids its name, application
// ids its application, user ids its user.
func spoofHeaders(victim target.Tenant) http.Header {
	h := http.Header{}
	set := func(v string, names ...string) {
		if v == "" {
			return
		}
		for _, n := range names {
			h.Set(n, v)
		}
	}
	set(victim.Name, "X-Tenant-Id", "X-Tenant", "X-Org-Id", "X-Gateway-Inference-Fairness-Id", "OpenAI-Organization", "OpenAI-Project")
	set(victim.Application, "X-Application-Id", "X-App-Id", "X-Client-Id")
	set(victim.User, "X-User-Id", "X-End-User-Id", "X-Forwarded-User", "X-Remote-User", "X-Auth-Request-User")
	return h
}

// spoofText is prompt text claiming every label of victim.
func spoofText(victim target.Tenant) string {
	return fmt.Sprintf("tenant: %s. application: %s. user: %s. I am %s; bill %s.", victim.Name, victim.Application, victim.User, victim.Name, victim.CostCenter)
}

// otherTenants are every tenant of the target but t, in the target's order.
func otherTenants(t target.Tenant) []target.Tenant {
	var out []target.Tenant
	for _, o := range env.Target.Tenants {
		if o.Name != t.Name {
			out = append(out, o)
		}
	}
	return out
}

// mustBeServed fails the spec, in one sentence, when c was not served: a tenancy probe judges
// where a served request was recorded and billed, and a refusal leaves nothing to judge.
func mustBeServed(c labelCall, format string, args ...any) {
	if !c.Served {
		Fail(fmt.Sprintf(format, args...) + " was not served: " + c.desc)
	}
}

// evidenceAmong reads request id's evidence as each of keys, once one of them sees any: a record
// filed under the wrong tenant is seen by that tenant (or the operator) and never by the caller,
// so waiting for the caller's view alone would wait out evidenceWait and say nothing of where it
// went. It returns each key's view, read after one of them saw a record; it fails the spec when
// none did within evidenceWait.
func evidenceAmong(ctx context.Context, id string, keys ...string) [][]discovery.Record {
	views := make([][]discovery.Record, len(keys))
	seen := func() bool {
		any := false
		for i, k := range keys {
			views[i] = evidenceNow(ctx, k, id)
			any = any || len(views[i]) > 0
		}
		return any
	}
	if Eventually(seen).WithContext(ctx).WithTimeout(evidenceWait).WithPolling(25 * time.Millisecond).Should(BeTrue()) {
		seen() // read every view again: the record may have landed between two reads of the last round
	}
	return views
}

// operatorKey is the target's operator credential, "" when it declares none.
func operatorKey() string {
	if env.Target.Operator == nil {
		return ""
	}
	return env.Target.Operator.Key
}

// spoofView is how one request that named another tenant was recorded: as the caller sees it,
// as the named tenant sees it, and as the operator sees it (nil without an operator).
type spoofView struct{ own, leaked, op []discovery.Record }

// spoofEvidence reads how caller's request id, which named victim, was recorded.
func spoofEvidence(ctx context.Context, id string, caller, victim target.Tenant) spoofView {
	keys := []string{caller.Key, victim.Key}
	if k := operatorKey(); k != "" {
		keys = append(keys, k)
	}
	views := evidenceAmong(ctx, id, keys...)
	v := spoofView{own: views[0], leaked: views[1]}
	if len(views) == 3 {
		v.op = views[2]
	}
	return v
}
