package suites

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
)

// toolOutageProbes is how many requests each tool tenant sends on each path during the outage.
const toolOutageProbes = 3

// classDeadlineOf is the deadline of the class t's requests run in by default: its first.
func classDeadlineOf(t target.Tenant) time.Duration {
	for _, k := range env.Target.TrafficClasses {
		if len(t.TrafficClasses) > 0 && k.Name == t.TrafficClasses[0] {
			return k.Deadline
		}
	}
	return env.Target.TrafficClasses[0].Deadline
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
		var users []target.Tenant
		for _, t := range env.Target.Tenants {
			if runtimeToolOf(t) != "" {
				users = append(users, t)
			}
		}
		if len(users) == 0 {
			inconclusive("no tenant may use a runtime-side tool (tenants[].tools)")
			return
		}
		// Positive control: before the cut, a tool request is served.
		before := send(ctx, users[0].Key, toolProbe("is the tool there before the cut?", false, runtimeToolOf(users[0])), nil)
		if !before.Outcome.Served() {
			inconclusive("a tool request was not served before the tool link was cut: %s", describe(before))
			return
		}
		known := knownCredentials()
		seenBefore := map[string]bool{}
		for _, fp := range presented(toolRecords(ctx)) {
			seenBefore[fp] = true
		}
		heal := inject(link.RoleTool, "", fault.Fault{Kind: fault.Down})
		var problems []string
		for _, t := range users {
			deadline := classDeadlineOf(t)
			for _, path := range []string{"http", "http-stream"} {
				for i := range toolOutageProbes {
					res := send(ctx, t.Key, toolProbe(fmt.Sprintf("order %d during the outage", i), path == "http-stream", runtimeToolOf(t)), nil)
					switch {
					case res.Outcome != outcome.Failed || res.Reason != outcome.ReasonToolUnavailable:
						problems = append(problems, fmt.Sprintf("tenant %s's %s tool request during the outage: %s, want failed/tool_unavailable", t.Name, path, describe(res)))
					case res.Latency > deadline+deadlineTolerance:
						problems = append(problems, fmt.Sprintf("tenant %s's %s tool request ended tool_unavailable after %s, past its deadline %s plus %s", t.Name, path, res.Latency.Round(time.Millisecond), deadline, deadlineTolerance))
					}
					judged(path, 1)
				}
				res := send(ctx, t.Key, probe("no tool needed during the outage", 4, path == "http-stream"), nil)
				if !res.Outcome.Served() {
					problems = append(problems, fmt.Sprintf("tenant %s's %s request without tools during the tool outage: %s, want served", t.Name, path, describe(res)))
				}
				judged("no-tool", 1)
			}
		}
		for _, fp := range presented(toolRecords(ctx)) {
			if who, ok := known[fp]; ok && !seenBefore[fp] {
				problems = append(problems, fmt.Sprintf("during the outage the tool server was presented %s: a fallback with wider authority", who))
			}
		}
		Expect(heal()).To(Succeed())
		Eventually(func() bool {
			return send(ctx, users[0].Key, toolProbe("is the tool back?", false, runtimeToolOf(users[0])), nil).Outcome.Served()
		}).WithContext(ctx).WithTimeout(recoveryTime()).WithPolling(250*time.Millisecond).Should(BeTrue(), "a tool request is served again within %s of the link healing", recoveryTime())
		evidence("%d tenants' tool requests judged during the tool link outage, %d problems", len(users), len(problems))
		Expect(problems).To(BeEmpty(), strings.Join(problems, "\n"))
	}, SpecTimeout(2*time.Minute))
})
