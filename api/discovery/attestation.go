package discovery

// PathAttestations is where a runtime that declares confidential-computing shows the attestation
// an evidence record names: GET {PathAttestations}/{digest}, with a tenant's or the operator's
// credential, answers the attestation as the worker presented it.
const PathAttestations = "/v1/aruntime/attestations"

// Attestation is a worker's attestation as the router last saw it (in WorkerVersions), or as it
// verified it under a digest (at PathAttestations).
type Attestation struct {
	// Digest names what the worker presented: "sha256:" and the hex SHA-256 of Presented.
	Digest string `json:"digest,omitempty"`
	// Presented is the attestation exactly as the worker presented it: base64 of a JSON object
	// {"report": base64 of the report's JSON, "signature": base64 ed25519 signature over
	// "arcert attestation v1\n" followed by the report's bytes}.
	Presented string `json:"presented,omitempty"`
	// Attested is true when the router verified it (signature, worker, mode, pinned runtime
	// version) and it is still fresh; Error says why not otherwise.
	Attested bool   `json:"attested"`
	Error    string `json:"error,omitempty"`
	Worker   string `json:"worker,omitempty"`
}
