package suites

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// toolProbes is how many tool requests each tenant sends on each HTTP path.
const toolProbes = 2

var _ = Describe("Tools", func() {
	It("carries the tenant's context to a tool, never its credential, and drops no tool", Req("TOOL-1"), func(ctx SpecContext) {
		if !toolsDeclared() {
			inconclusive("the target declares no runtime-side tools with an observe URL (tools.runtime, tools.observe), so what reached a tool cannot be read")
			return
		}
		r := rng(0x7001)
		sent := sendToolProbes(ctx, func() string { return fmt.Sprintf("where is order %d?", r.IntN(1e6)) })
		if len(sent) == 0 {
			inconclusive("no tenant may use a runtime-side tool (tenants[].tools)")
			return
		}
		var problems []string
		recs, known := toolRecords(ctx), knownCredentials()
		// Any key of the target's that ever reached the tool server, as a header, in _meta or in
		// the arguments, is a leak, whether or not the server accepted it or could tie it to a
		// request.
		for _, fp := range presented(recs) {
			if who, ok := known[fp]; ok {
				problems = append(problems, fmt.Sprintf("the tool server was presented %s", who))
			}
		}
		byID := recordsFor(recs)
		judgedCalls := 0
		for _, c := range sent {
			t := tenantNamed(c.tenant)
			problems = append(problems, judgeNone(c, byID)...)
			judged("tool-choice-none", 1)
			if !c.tool.Outcome.Served() || c.tool.RequestID == "" {
				problems = append(problems, fmt.Sprintf("tenant %s's %s request naming %s was not served: %s", t.Name, c.path, runtimeToolOf(t), describe(c.tool)))
				continue
			}
			id := c.tool.RequestID
			recs := byID[id]
			if len(recs) == 0 {
				problems = append(problems, fmt.Sprintf("request %s (tenant %s, %s) was served but the tool server recorded no call for it: the tool was not called", id, c.tenant, c.path))
				continue
			}
			spoofed, _ := spoofedUser(t)
			for _, rec := range recs {
				if rec.Tenant != t.Name || rec.Application != t.Application || rec.User != t.User {
					problems = append(problems, fmt.Sprintf("request %s (sent with user %q and a header naming another tenant): the tool call carried tenant %q application %q user %q, want %q %q %q", id, spoofed, rec.Tenant, rec.Application, rec.User, t.Name, t.Application, t.User))
				}
			}
			problems = append(problems, judgeResultUsed(c)...)
			problems = append(problems, toolInEvidence(ctx, t.Key, id, runtimeToolOf(t), "runtime")...)
			judgedCalls++
			judged(c.path, 1)
			judged("tenant:"+c.tenant, 1)
		}
		notProbed("grpc", "the gRPC front door (arcert.v1 CompleteRequest) has no tools field, so no tool can be asked for on it")
		problems = append(problems, passThrough(ctx, r.Uint64())...)
		evidence("%d tool requests, sent at once by every tool-using tenant with a spoofed user and tenant header, judged against the tool server's record and their tool_choice none twins (%d), %d problems", judgedCalls, len(sent), len(problems))
		Expect(problems).To(BeEmpty(), strings.Join(problems, "\n"))
	})

	It("keeps the tool adapter's identity apart from tenants and operators", Req("TOOL-2"), func(ctx SpecContext) {
		tl := env.Target.Tools
		if !toolsDeclared() || tl.Adapter == "" {
			inconclusive("the target declares no tool adapter (tools.adapter) with an observe URL")
			return
		}
		var problems []string
		if tl.AdapterCredential != "" {
			for _, stream := range []bool{false, true} {
				res := send(ctx, tl.AdapterCredential, probe("the tool adapter acting as a tenant", 2, stream), nil)
				if res.Outcome != outcome.Rejected || (res.Reason != outcome.ReasonUnauthenticated && res.Reason != outcome.ReasonForbidden) {
					problems = append(problems, fmt.Sprintf("the tool adapter's credential on the data plane (stream %v): %s, want rejected/unauthenticated or forbidden", stream, describe(res)))
				}
				judged("tenant", 1)
			}
			for _, path := range adapterOperatorPaths() {
				var sink any
				if st := getJSON(ctx, path, tl.AdapterCredential, &sink); st != http.StatusUnauthorized && st != http.StatusForbidden {
					problems = append(problems, fmt.Sprintf("GET %s with the tool adapter's credential answered %d, want 401 or 403", path, st))
				}
				judged("operator", 1)
			}
		} else {
			notProbed("tenant", "the target declares no tools.adapter_credential")
			notProbed("operator", "the target declares no tools.adapter_credential")
		}
		// Every caller but the router is refused at the adapter, even asking, in the name of a
		// tenant that may use it, for that tenant's own tool: a refusal then is the adapter's
		// judgement of the caller, not of the tenant's permission.
		users := toolUsers()
		if len(users) == 0 {
			inconclusive("no tenant may use a runtime-side tool (tenants[].tools), so no call to the adapter could be allowed")
			return
		}
		user := users[0]
		callers := map[string]string{}
		for _, t := range env.Target.Tenants {
			callers["tenant "+t.Name] = t.Key
		}
		if op := env.Target.Operator; op != nil {
			callers["the operator"] = op.Key
		}
		if wl := env.Target.Workload; wl != nil && wl.Key != "" {
			callers["the workload credential"] = wl.Key
		} else {
			notProbed("workload", "the target declares no workload credential (workload.key)")
		}
		refused := map[string]bool{}
		for _, who := range slices.Sorted(maps.Keys(callers)) {
			id := "arcert-tool2-" + strings.ReplaceAll(who, " ", "-")
			refused[id] = true
			if st := callAdapter(ctx, callers[who], user, runtimeToolOf(user), id); st != http.StatusUnauthorized && st != http.StatusForbidden {
				problems = append(problems, fmt.Sprintf("%s calling the tool adapter directly for tenant %s's tool %s got %d, want 401 or 403", who, user.Name, runtimeToolOf(user), st))
			}
			if who == "the workload credential" {
				judged("workload", 1)
			} else {
				judged("adapter", 1)
			}
		}
		problems = append(problems, notAllowed(ctx, refused)...)
		for _, rec := range toolRecords(ctx) {
			if refused[rec.RequestID] {
				problems = append(problems, fmt.Sprintf("a refused call reached the tool server: request %s, tool %s, tenant %s", rec.RequestID, rec.Tool, rec.Tenant))
			}
		}
		evidence("tool adapter separation: %d direct callers (tenants, operator, workload) refused at the adapter for tenant %s's tool %s, the adapter's credential tried on the data and operator planes, %d problems", len(callers), user.Name, runtimeToolOf(user), len(problems))
		Expect(problems).To(BeEmpty(), strings.Join(problems, "\n"))
	})
})

// adapterOperatorPaths are the operator's endpoints the adapter's credential is tried on.
func adapterOperatorPaths() []string {
	paths := []string{operatorListing}
	if ops := env.Target.Operations; ops != nil && ops.Control != "" {
		paths = append(paths, strings.TrimSuffix(ops.Control, "/")+"/models/"+ops.Model+"/history")
	}
	return paths
}

// notAllowed has a tenant that may use no runtime-side tool name one: it must be refused
// tool_not_allowed, before any call.
func notAllowed(ctx context.Context, refused map[string]bool) []string {
	for _, t := range env.Target.Tenants {
		if runtimeToolOf(t) != "" {
			continue
		}
		var problems []string
		for _, stream := range []bool{false, true} {
			res := send(ctx, t.Key, toolProbe("may I use this tool?", stream, env.Target.Tools.Runtime[0]), nil)
			if res.RequestID != "" {
				refused[res.RequestID] = true
			}
			if res.Outcome != outcome.Rejected || res.Reason != outcome.ReasonToolNotAllowed {
				problems = append(problems, fmt.Sprintf("tenant %s, which may use no runtime-side tool, naming %s: %s, want rejected/tool_not_allowed", t.Name, env.Target.Tools.Runtime[0], describe(res)))
			}
			judged("not-allowed", 1)
		}
		return problems
	}
	notProbed("not-allowed", "every tenant may use a runtime-side tool")
	return nil
}

// passThrough asks for a function tool the runtime does not provide: it must come back to the
// client as tool_calls naming it, plain and streamed, never be answered as plain text.
func passThrough(ctx context.Context, draw uint64) []string {
	name := fmt.Sprintf("arcert_client_tool_%x", draw%0xffff)
	var problems []string
	for _, stream := range []bool{false, true} {
		res := send(ctx, tenantA().Key, toolProbe("call my own function", stream, name), nil)
		named := slices.ContainsFunc(res.ToolCalls, func(c openai.ToolCall) bool { return c.Function.Name == name })
		if !res.Outcome.Served() || res.FinishReason != openai.FinishToolCalls || !named {
			problems = append(problems, fmt.Sprintf("client-side tool %s (stream %v): finish_reason %q, %d tool calls, %s; want finish_reason tool_calls and a call of it", name, stream, res.FinishReason, len(res.ToolCalls), describe(res)))
		} else {
			problems = append(problems, judgeCallShape(res, stream)...)
			problems = append(problems, toolInEvidence(ctx, tenantA().Key, res.RequestID, name, "client")...)
		}
		judged("passthrough", 1)
	}
	return problems
}

// toolInEvidence checks that the evidence record of request id, as its tenant reads it, lists
// the call of tool on side: the billing and audit record of a request names the tools it used.
func toolInEvidence(ctx context.Context, key, id, tool, side string) []string {
	recs := evidenceFor(ctx, key, id)
	for _, c := range recs[0].ToolCalls {
		if c.Name == tool && c.Side == side {
			return nil
		}
	}
	return []string{fmt.Sprintf("request %s: its evidence record lists tool calls %+v, not the %s-side call of %s", id, recs[0].ToolCalls, side, tool)}
}
