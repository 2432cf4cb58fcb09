package target

// Tools declares the runtime-side tools of a runtime (TOOL-1..3): tools it executes itself, for
// a chat request that names them, through its tool adapter; tenants[].tools says which tenant may
// use which. Nil means the runtime executes no tool, and the tool requirements are NOT_SUPPORTED.
type Tools struct {
	// Runtime are the runtime-side tools, by name.
	Runtime []string `yaml:"runtime"`
	// Adapter is the tool adapter's call endpoint (the reference's POST /v1/tools/call), which
	// TOOL-2 calls directly with a tenant's key and the operator's: both must be refused.
	Adapter string `yaml:"adapter"`
	// AdapterCredential is the adapter's own credential, which TOOL-2 presents to the router as
	// a tenant and as an operator; empty leaves that half not probed.
	AdapterCredential string `yaml:"adapter_credential"`
	// Observe lists every call that reached the tool server (GET /v1/toolserver/seen of the
	// stand-in): the tool, the credential's fingerprint, the tenant context.
	Observe string `yaml:"observe"`
}
