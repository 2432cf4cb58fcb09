package target

import (
	"fmt"
	"slices"

	"github.com/aruntime/arcert/internal/yamlschema"
)

// Tools declares the runtime-side tools of a runtime (TOOL-1..3): tools it executes itself, for
// a chat request that names them, through its tool adapter; tenants[].tools says which tenant may
// use which. Nil means the runtime executes no tool, and the tool requirements are NOT_SUPPORTED.
type Tools struct {
	// Runtime are the runtime-side tools, by name.
	Runtime []string `yaml:"runtime"`
	// Adapter is the tool adapter's call endpoint (the reference's POST /v1/tools/call), which
	// TOOL-2 calls directly with every tenant's key, the operator's and the workload credential:
	// all must be refused.
	Adapter string `yaml:"adapter"`
	// AdapterCredential is the adapter's own credential, which TOOL-2 presents to the router as
	// a tenant and as an operator; empty leaves that half not probed.
	AdapterCredential string `yaml:"adapter_credential"`
	// Observe lists every call that reached the tool server (GET /v1/toolserver/seen of the
	// stand-in): the tool, the credential's fingerprint, the tenant context.
	Observe string `yaml:"observe"`
}

// checkTools cross-checks the tools section: the feature needs it, every tenant's tool is one of
// tools.runtime, and the adapter's credential is an identity of its own (claim).
func (t *Target) checkTools(claim func(field, key string)) []*yamlschema.Problem {
	var probs []*yamlschema.Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, &yamlschema.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if t.Declares("tools") && t.Tools == nil {
		add("tools", "feature tools needs the tools section: the runtime-side tools, the adapter and where the tool server's record is read")
	}
	for i, tn := range t.Tenants {
		for j, name := range tn.Tools {
			if t.Tools == nil || !slices.Contains(t.Tools.Runtime, name) {
				add(fmt.Sprintf("tenants[%d].tools[%d]", i, j), "tool %q is not one of tools.runtime", name)
			}
		}
	}
	if t.Tools != nil && t.Tools.AdapterCredential != "" {
		claim("tools.adapter_credential", t.Tools.AdapterCredential)
	}
	return probs
}
