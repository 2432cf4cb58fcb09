package suites

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
)

// toolOutageProbes is how many tool requests each tool tenant sends on each path in each phase
// of the outage: the link refused (down), then the link holding every byte (blackholed), where a
// runtime without its own bound on the call waits for the class deadline.
const toolOutageProbes = 2

// toolOutages are the phases of TOOL-3: a link that refuses at once and one that answers never.
var toolOutages = []fault.Fault{{Kind: fault.Down}, {Kind: fault.Blackhole}}

// classDeadlineOf is the deadline of the class t's requests run in by default: its first.
func classDeadlineOf(t target.Tenant) time.Duration {
	for _, k := range env.Target.TrafficClasses {
		if len(t.TrafficClasses) > 0 && k.Name == t.TrafficClasses[0] {
			return k.Deadline
		}
	}
	return env.Target.TrafficClasses[0].Deadline
}

// toolUsers are the tenants that may use a runtime-side tool.
func toolUsers() []target.Tenant {
	var users []target.Tenant
	for _, t := range env.Target.Tenants {
		if runtimeToolOf(t) != "" {
			users = append(users, t)
		}
	}
	return users
}

var _ = Describe("Tool link outage", Serial, Label("fault:tool"), func() {
	It("ends tool requests tool_unavailable in time, serves the rest, and never broadens authority", Req("TOOL-3"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		if !toolsDeclared() {
			inconclusive("the target declares no runtime-side tools with an observe URL (tools.runtime, tools.observe)")
			return
		}
		if !needLinks(link.RoleTool, "") {
			return
		}
		users := toolUsers()
		if len(users) == 0 {
			inconclusive("no tenant may use a runtime-side tool (tenants[].tools)")
			return
		}
		// Positive control: before the cut, a tool request is served.
		if before := send(ctx, users[0].Key, toolProbe("is the tool there before the cut?", false, runtimeToolOf(users[0])), nil); !before.Outcome.Served() {
			inconclusive("a tool request was not served before the tool link was cut: %s", describe(before))
			return
		}
		known := knownCredentials()
		seenBefore := map[string]bool{}
		for _, fp := range presented(toolRecords(ctx)) {
			seenBefore[fp] = true
		}
		// Both links a tool call crosses are cut in turn: the adapter's to the tool server
		// (tool) and, when declared, the router's to the adapter (tool_adapter), each first
		// refusing, then holding every byte.
		roles := []link.Role{link.RoleTool}
		if len(env.Chaos.Select(link.RoleToolAdapter, "")) > 0 {
			roles = append(roles, link.RoleToolAdapter)
		} else {
			notProbed("tool_adapter", "the target declares no tool_adapter dependency (the router's link to the tool adapter), so only the adapter's link to the tool server was cut")
		}
		var problems []string
		for _, role := range roles {
			for _, f := range toolOutages {
				heal := inject(role, "", f)
				problems = append(problems, toolOutagePhase(ctx, role, f, users)...)
				Expect(heal()).To(Succeed())
			}
		}
		for _, fp := range presented(toolRecords(ctx)) {
			if who, ok := known[fp]; ok && !seenBefore[fp] {
				problems = append(problems, fmt.Sprintf("during the outage the tool server was presented %s: a fallback with wider authority", who))
			}
		}
		Eventually(func() bool {
			return send(ctx, users[0].Key, toolProbe("is the tool back?", false, runtimeToolOf(users[0])), nil).Outcome.Served()
		}).WithContext(ctx).WithTimeout(recoveryTime()).WithPolling(250*time.Millisecond).Should(BeTrue(), "a tool request is served again within %s of the link healing", recoveryTime())
		evidence("%d tenants' tool requests judged through %d phases (down, blackhole) on each of the links %v, %d problems", len(users), len(toolOutages), roles, len(problems))
		Expect(problems).To(BeEmpty(), strings.Join(problems, "\n"))
	}, SpecTimeout(3*time.Minute))
})

// toolOutagePhase sends, at once, every tool tenant's tool requests and one request without
// tools on each HTTP path while the tool link suffers f, and says what broke the rule.
func toolOutagePhase(ctx context.Context, role link.Role, f fault.Fault, users []target.Tenant) []string {
	var (
		mu       sync.Mutex
		problems []string
		wg       sync.WaitGroup
	)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf("%s on link %s: ", f, role)+fmt.Sprintf(format, args...))
	}
	for _, t := range users {
		deadline := classDeadlineOf(t)
		for _, path := range []string{"http", "http-stream"} {
			for i := range toolOutageProbes {
				wg.Go(func() {
					defer GinkgoRecover()
					res := send(ctx, t.Key, toolProbe(fmt.Sprintf("order %d during the outage", i), path == "http-stream", runtimeToolOf(t)), nil)
					switch {
					case res.Outcome != outcome.Failed || res.Reason != outcome.ReasonToolUnavailable:
						report("tenant %s's %s tool request: %s, want failed/tool_unavailable", t.Name, path, describe(res))
					case res.Latency > deadline+deadlineTolerance:
						report("tenant %s's %s tool request ended tool_unavailable after %s, past its deadline %s plus %s", t.Name, path, res.Latency.Round(time.Millisecond), deadline, deadlineTolerance)
					}
				})
			}
			wg.Go(func() {
				defer GinkgoRecover()
				if res := send(ctx, t.Key, probe("no tool needed during the outage", 4, path == "http-stream"), nil); !res.Outcome.Served() {
					report("tenant %s's %s request without tools: %s, want served", t.Name, path, describe(res))
				}
			})
		}
	}
	wg.Wait()
	for _, path := range []string{"http", "http-stream"} {
		judged(path, len(users)*toolOutageProbes)
	}
	judged("no-tool", 2*len(users))
	if role == link.RoleToolAdapter {
		judged("tool_adapter", len(users)*toolOutageProbes*2)
	}
	return problems
}
