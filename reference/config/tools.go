package config

import (
	"fmt"
	"slices"
	"time"
)

// Tools configures runtime-side tools: tools the runtime itself executes for a chat request that
// names them, through the tool adapter (reference/tooladapter), a separate service with its own
// workload credential that speaks the Model Context Protocol to the tool server. The router asks
// the adapter with RouterKey, a credential only the router holds (not router.worker_token, which
// every worker and the cache tier hold too), and the tenant's context (tenant, application,
// user, request id), never with the tenant's key; the adapter asks the tool server with
// AdapterKey, which no tenant or operator holds. Which tenant may use which tool is
// tenants[].tools. Empty (no Served tool) turns runtime-side tools off: any function tool then
// goes back to the client as tool_calls.
type Tools struct {
	// Served are the runtime-side tools, by the name a request's tools[].function.name uses.
	Served []string `yaml:"served"`
	// AdapterListen is where `aruntime up` (in-process) or `aruntime tools` serves the adapter.
	AdapterListen string `yaml:"adapter_listen"`
	// AdapterURL is the adapter's base URL the router dials; empty means the one `up` started.
	AdapterURL string `yaml:"adapter_url"`
	// AdapterKey is the adapter's own credential at the tool server. It is never a tenant's or
	// an operator's key: the configuration refuses one used anywhere else.
	AdapterKey string `yaml:"adapter_key"`
	// RouterKey is the router's own credential at the adapter, the only one the adapter accepts.
	// It is none of the other keys of the configuration (workers hold router.worker_token, so
	// that one would let any worker run tools in any tenant's name).
	RouterKey string `yaml:"router_key"`
	// ServerURL is the tool server's MCP endpoint (streamable HTTP), or EmbeddedBaseURL for the
	// stand-in of fixtures/toolserver that `aruntime up` starts.
	ServerURL string `yaml:"server_url"`
	// CallTimeout bounds one tool call end to end (router to adapter to tool server and back);
	// 0 means DefaultToolCallTimeout. It must be shorter than every class deadline a tenant with
	// tools may use, so an unreachable tool ends tool_unavailable, not deadline.
	CallTimeout time.Duration `yaml:"call_timeout"`
}

// DefaultToolCallTimeout is Tools.CallTimeout when none is given: well inside the interactive
// class's deadline, so an unreachable tool ends as tool_unavailable rather than as deadline.
const DefaultToolCallTimeout = 2 * time.Second

// Timeout is CallTimeout with its default applied.
func (t Tools) Timeout() time.Duration {
	if t.CallTimeout <= 0 {
		return DefaultToolCallTimeout
	}
	return t.CallTimeout
}

// Enabled reports whether the runtime serves any runtime-side tool.
func (t Tools) Enabled() bool { return len(t.Served) > 0 }

// TenantMayUse reports whether tenant may have the runtime execute tool.
func (c *Config) TenantMayUse(tenant, tool string) bool {
	t, ok := c.Tenant(tenant)
	return ok && slices.Contains(t.Tools, tool) && slices.Contains(c.Tools.Served, tool)
}

// ToolAdapterView is the part of c a tool adapter running alone (`aruntime tools`) needs: the
// tools section and which tenant may use which tool, without any tenant's, operator's or
// worker's key, so a compromised adapter process holds no credential but its own and the
// router's key to it. Every caller but the router is then an unknown credential to it.
func (c *Config) ToolAdapterView() *Config {
	v := &Config{Tools: c.Tools}
	for _, t := range c.Tenants {
		v.Tenants = append(v.Tenants, Tenant{Name: t.Name, Tools: slices.Clone(t.Tools)})
	}
	return v
}

// validateTools checks the tools section and every tenant's tools against it.
func (c *Config) validateTools(v *validator, claim func(field, key string)) {
	t := c.Tools
	for i, name := range t.Served {
		v.name(fmt.Sprintf("tools.served[%d]", i), name)
	}
	if !t.Enabled() {
		for i, tn := range c.Tenants {
			if len(tn.Tools) > 0 {
				v.add(fmt.Sprintf("tenants[%d].tools", i), "names tools but tools.served lists none")
			}
		}
		return
	}
	claim("tools.adapter_key", t.AdapterKey)
	if t.RouterKey == "" {
		v.add("tools.router_key", "give the router's own credential at the tool adapter")
	}
	claim("tools.router_key", t.RouterKey)
	if t.AdapterURL == "" && t.AdapterListen == "" {
		v.add("tools", "give adapter_listen (the adapter runs with the router) or adapter_url (it runs elsewhere)")
	}
	if t.AdapterListen != "" {
		v.addr("tools.adapter_listen", t.AdapterListen)
	}
	if t.ServerURL == "" {
		v.add("tools.server_url", "give the tool server's MCP endpoint, or embedded for the stand-in")
	}
	if t.CallTimeout < 0 {
		v.add("tools.call_timeout", "must not be negative (0 means %s)", DefaultToolCallTimeout)
	}
	for i, tn := range c.Tenants {
		for j, name := range tn.Tools {
			if !slices.Contains(t.Served, name) {
				v.add(fmt.Sprintf("tenants[%d].tools[%d]", i, j), "tool %q is not one of tools.served", name)
			}
		}
	}
	if tenant, class, deadline := c.shortestToolDeadline(); deadline > 0 && t.Timeout() >= deadline {
		v.add("tools.call_timeout", "%s is not within the deadline of class %s (%s), which tenant %s's tool requests may have: an unreachable tool would end them deadline, not tool_unavailable", t.Timeout(), class, deadline, tenant)
	}
}

// shortestToolDeadline is the shortest class deadline a tenant with tools may send a request
// under (all classes when it lists none), with that tenant and class; 0 when none has a deadline.
func (c *Config) shortestToolDeadline() (tenant, class string, deadline time.Duration) {
	for _, tn := range c.Tenants {
		if len(tn.Tools) == 0 {
			continue
		}
		names := tn.TrafficClasses
		if len(names) == 0 {
			for _, k := range c.TrafficClasses {
				names = append(names, k.Name)
			}
		}
		for _, name := range names {
			if k, ok := c.Class(name); ok && k.Deadline > 0 && (deadline == 0 || k.Deadline < deadline) {
				tenant, class, deadline = tn.Name, k.Name, k.Deadline
			}
		}
	}
	return tenant, class, deadline
}
