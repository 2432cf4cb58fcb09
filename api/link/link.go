// Package link names the links between a runtime and its dependencies: a part of the runtime (a
// router, a worker) dialing another (a region's worker, the hosted provider, the registry, the
// batch queue, the cache tier, the evidence service). Target files declare them, the reference
// runtime hands them to its interposer, the fault engine stands a proxy on each and the
// containers deployment wires them; all of them share this one type and these role names, so a
// link is spelt the same from the file to the proxy. It lives under api/ because the reference
// runtime may import nothing of the harness, and the harness must agree with it.
package link

import "slices"

// Role is what a link reaches, as a target file's dependencies[].role names it.
type Role string

// The roles of a dependency link. conformance/target/schema.json lists the same names.
const (
	// RoleProvider is the hosted model provider a router falls back to.
	RoleProvider Role = "provider"
	// RoleRegion is a router's link to one worker of a region; a region has one per worker.
	RoleRegion Role = "region"
	// RoleRegistry is the artifact registry workers pull models from.
	RoleRegistry Role = "registry"
	// RoleQueue is the durable batch queue.
	RoleQueue Role = "queue"
	// RoleCache is the shared cache tier.
	RoleCache Role = "cache"
	// RoleEvidence is the durable evidence service.
	RoleEvidence Role = "evidence"
	// RoleTool is the tool adapter's link to the tool server it executes runtime-side tools on.
	RoleTool Role = "tool"
	// RoleToolAdapter is the router's link to the tool adapter: cut, a tool call fails before it
	// reaches the adapter, where a cut tool link fails it after.
	RoleToolAdapter Role = "tool_adapter"
)

var roles = []Role{RoleProvider, RoleRegion, RoleRegistry, RoleQueue, RoleCache, RoleEvidence, RoleTool, RoleToolAdapter}

// Roles returns every role, in the order the target file's schema lists them.
func Roles() []Role { return slices.Clone(roles) }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(roles, r) }

// Link is one dependency link: a part of the runtime dials Dial to reach Upstream. Where nothing
// stands between them Dial is Upstream; where a fault proxy does, Dial is where the proxy listens.
// Several links may share a role and name (each worker of a region is one link of role region,
// name eu-west), and Part tells them apart.
type Link struct {
	Role Role   `yaml:"role" json:"role"`
	Name string `yaml:"name" json:"name"`
	// Part, for a region, is the worker behind this link as ARuntime-Served-By names it, so worker
	// loss can be judged (its requests must go elsewhere). Empty when the role and name say it all.
	Part string `yaml:"part" json:"part,omitempty"`
	// Dial is the host:port the runtime connects to for this link.
	Dial string `yaml:"dial" json:"dial"`
	// Upstream is the host:port the link really reaches.
	Upstream string `yaml:"upstream" json:"upstream"`
}
