package suites

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/target"
)

// ccDomain prefixes what an attestation's signature covers (api/discovery/attestation.go).
const ccDomain = "arcert attestation v1\n"

// ccClockSkew is how far ahead of the harness's clock a report may be dated: the harness and a
// deployed runtime do not share a clock, and a second is far more than NTP leaves between them
// (the reference's router allows the same: attest.MaxClockSkew).
const ccClockSkew = time.Second

// ccReport is an attestation report as the contract describes it.
type ccReport struct {
	Worker         string    `json:"worker"`
	Device         string    `json:"device"`
	CCMode         string    `json:"cc_mode"`
	RuntimeVersion string    `json:"runtime_version"`
	IssuedAt       time.Time `json:"issued_at"`
}

// ccTenant is the target's first confidential tenant.
func ccTenant() target.Tenant { return env.Target.Confidential.Tenants[0] }

// ccDigest is the digest of a presented attestation: "sha256:" and the hex SHA-256 of its text.
func ccDigest(presented string) string {
	sum := sha256.Sum256([]byte(presented))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ccVerify checks presented as worker's attestation at time at, by the harness's own reading of
// the contract rather than the runtime's word: the signature with the declared key, the worker,
// the mode, the pinned runtime version and the age. It returns the report and "" when it holds,
// else what is wrong.
func ccVerify(presented, worker string, at time.Time) (ccReport, string) {
	var signed struct {
		Report    []byte `json:"report"`
		Signature []byte `json:"signature"`
	}
	raw, err := base64.StdEncoding.DecodeString(presented)
	if err == nil {
		err = json.Unmarshal(raw, &signed)
	}
	if err != nil {
		return ccReport{}, fmt.Sprintf("does not decode: %v", err)
	}
	key, err := base64.StdEncoding.DecodeString(env.Target.Confidential.PublicKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return ccReport{}, "the target's public_key is no ed25519 key"
	}
	if !ed25519.Verify(key, append([]byte(ccDomain), signed.Report...), signed.Signature) {
		return ccReport{}, "its signature does not verify with the declared key"
	}
	var r ccReport
	if err := json.Unmarshal(signed.Report, &r); err != nil {
		return ccReport{}, fmt.Sprintf("its report does not decode: %v", err)
	}
	maxAge := env.Target.Confidential.MaxAge
	switch age := at.Sub(r.IssuedAt); {
	case r.Worker != worker:
		return r, fmt.Sprintf("it names worker %q, not %q", r.Worker, worker)
	case r.CCMode != "on":
		return r, fmt.Sprintf("its confidential-computing mode is %q", r.CCMode)
	case r.RuntimeVersion != env.Target.Pins.RuntimeVersion:
		return r, fmt.Sprintf("it measures runtime %q, the pin is %q", r.RuntimeVersion, env.Target.Pins.RuntimeVersion)
	case age > maxAge:
		return r, fmt.Sprintf("it was issued %s, %s before %s, past the declared max age %s", r.IssuedAt.Format(time.RFC3339Nano), age.Round(time.Millisecond), at.Format(time.RFC3339Nano), maxAge)
	case -age > ccClockSkew:
		return r, fmt.Sprintf("it is dated %s, %s after %s", r.IssuedAt.Format(time.RFC3339Nano), (-age).Round(time.Millisecond), at.Format(time.RFC3339Nano))
	}
	return r, ""
}

// ccListing is every worker's attestation as the versions listing shows it, by worker id.
func ccListing(ctx context.Context) map[string]discovery.WorkerVersions {
	out := map[string]discovery.WorkerVersions{}
	for _, w := range versionsNow(ctx) {
		if w.Role != "prefill" {
			out[w.Worker] = w
		}
	}
	return out
}

// ccAttested lists the serving workers the listing shows attested and healthy, and the healthy
// ones it does not show attested: the unattested capacity a confidential tenant could be moved
// to (an unhealthy worker is capacity for nobody).
func ccAttested(ctx context.Context) (attested, not []string) {
	for id, w := range ccListing(ctx) {
		switch {
		case !w.Healthy:
		case w.Attestation != nil && w.Attestation.Attested:
			attested = append(attested, id)
		default:
			not = append(not, id)
		}
	}
	return attested, not
}

// ccResolve fetches the attestation the runtime verified under digest, as the confidential
// tenant; "" when it has none.
func ccResolve(ctx context.Context, digest string) discovery.Attestation {
	var a discovery.Attestation
	status := getJSON(ctx, discovery.PathAttestations+"/"+digest, ccTenant().Key, &a)
	opsCheck(status == http.StatusOK, "GET %s/%s answered %d: the attestation an evidence record names cannot be shown", discovery.PathAttestations, digest, status)
	return a
}
