package suites

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
)

// operatorEndpoint is one operator-only call of the contract. Writes carry a body the runtime
// must refuse as invalid once it has let the caller in, so that the operator's own call (the
// positive control) changes nothing, and a caller that gets past the identity check is seen by
// the reason it is refused for.
type operatorEndpoint struct {
	method, path string
	body         []byte
	// read means the operator's call must be served (200); any other call (a write, or a read of
	// a document that may not exist) must get past the identity check, whatever it answers then.
	read bool
	// uncontrolled writes are not made as the operator: the contract does not define them, so a
	// lenient runtime might store the probe's body. The read of the same document, just before,
	// stands as their positive control.
	uncontrolled bool
}

// String names the endpoint in messages and sample paths.
func (e operatorEndpoint) String() string { return e.method + " " + e.path }

// noSuchWorker is a worker id no runtime has: the write probes that name a worker aim at it, so
// even an operator's call replaces and faults nothing.
const noSuchWorker = "arcert-identity-no-such-worker"

// controlDocuments are the control plane's documents besides the model's, as the guidance lists
// them (routing policy, deployment configuration, quotas, rollout state), by the reference's names.
var controlDocuments = []string{"routing", "deployment", "quotas", "rollout"}

// invalidDigest is a model document no runtime may store: not a pinned content digest.
const invalidDigest = `{"artifact_digest":"arcert-identity-probe-not-a-digest"}`

// operatorEndpoints are every operator-only endpoint the contract gives the target: the evidence
// listing always; the control plane's model document, its history, a rollout (PUT), a rollback,
// a worker replacement and the record of what reached a worker when the target declares
// operations; the device hook when it declares devices.
func operatorEndpoints() []operatorEndpoint {
	eps := []operatorEndpoint{{method: http.MethodGet, path: operatorListing, read: true}}
	if ops := env.Target.Operations; ops != nil && ops.Control != "" {
		ctl := strings.TrimSuffix(ops.Control, "/") + "/"
		doc := ctl + "models/" + ops.Model
		eps = append(eps,
			operatorEndpoint{method: http.MethodGet, path: doc, read: true},
			operatorEndpoint{method: http.MethodGet, path: doc + "/history", read: true},
			operatorEndpoint{method: http.MethodPut, path: doc, body: []byte(invalidDigest)},
			operatorEndpoint{method: http.MethodPost, path: doc + "/rollback", body: []byte(`{"revision":0}`)},
			operatorEndpoint{method: http.MethodPost, path: ctl + "workers/" + noSuchWorker + "/replace", body: []byte(`{}`)},
		)
		if ops.WorkerCredentials != "" {
			eps = append(eps, operatorEndpoint{method: http.MethodGet, path: strings.ReplaceAll(ops.WorkerCredentials, "{worker}", noSuchWorker)})
		}
		// Everything under the control prefix is the operator's, by the target's own declaration:
		// the reference's other documents (routing policy, deployment, quotas, rollout state) too,
		// read and written, whether or not a document of that name exists yet.
		for _, bucket := range controlDocuments {
			d := ctl + bucket + "/" + ops.Model
			eps = append(eps,
				operatorEndpoint{method: http.MethodGet, path: d},
				operatorEndpoint{method: http.MethodGet, path: d + "/history"},
				operatorEndpoint{method: http.MethodPut, path: d, body: []byte(`{"arcert_identity_probe":"not a field of any document"}`), uncontrolled: true},
			)
		}
	}
	if d := env.Target.Devices; d != nil && d.Hook != "" {
		eps = append(eps, operatorEndpoint{method: http.MethodPost, path: strings.ReplaceAll(d.Hook, "{worker}", noSuchWorker),
			body: []byte(`{"kind":"arcert-identity-probe"}`)})
	}
	return eps
}

// call makes the endpoint's call as key ("" sends no credential).
func (e operatorEndpoint) call(ctx context.Context, key string) idAnswer {
	status, hdr, err := env.HTTP.JSON(ctx, e.method, e.path, key, e.body, nil, nil)
	Expect(err).NotTo(HaveOccurred(), "%s could not be exchanged", e)
	return answerOf(status, hdr)
}

// callSettled is call for the positive control. An endpoint whose store is reconnecting after an
// earlier spec's fault answers 502 or 503: "not now", not "not you". It is asked again within the
// declared recovery, as evidence listings are (evidencePageAt), so the control fails only on an
// answer that stays; until is one deadline for every endpoint, so a store that never comes back
// costs the recovery time once, not once an endpoint. Callers that are not the operator get no such retry: a runtime that checks
// identity before its store refuses them whatever the store's state.
func (e operatorEndpoint) callSettled(ctx context.Context, key string, until time.Time) idAnswer {
	a := e.call(ctx, key)
	for transientStatus(a.status) && time.Now().Before(until) && sleepCtx(ctx, 250*time.Millisecond) {
		a = e.call(ctx, key)
	}
	return a
}

// admitsOperator is the positive control: the operator's own call is served (a read) or gets
// past the identity check to be refused for its body or target (a write), with an outcome.
func (e operatorEndpoint) admitsOperator(a idAnswer) bool {
	if e.read {
		return a.status == http.StatusOK
	}
	return a.class != "" && a.reason != outcome.ReasonUnauthenticated && a.reason != outcome.ReasonForbidden &&
		a.status != http.StatusUnauthorized && a.status != http.StatusForbidden
}

// idCaller is a credential that is not the operator's, with the sample path it counts for.
type idCaller struct {
	path, key string
}

// nonOperators are every tenant's key, the workload credential, no credential at all and a key
// nobody issued.
func nonOperators() []idCaller {
	var out []idCaller
	for _, t := range env.Target.Tenants {
		out = append(out, idCaller{path: "tenant:" + t.Name, key: t.Key})
	}
	if wl := env.Target.Workload; wl != nil {
		out = append(out, idCaller{path: "workload", key: wl.Key})
	} else {
		notProbed("workload", "the target declares no workload credential")
	}
	return append(out, idCaller{path: "no-credential"}, idCaller{path: "no-credential:unknown key", key: "arcert-identity-not-a-key"})
}

// operatorRefusals probes every operator endpoint as the operator (the positive control) and
// as every other caller. It returns the endpoints whose control failed and the calls that were
// not refused for their identity; it records each refusal judged, by caller, and each endpoint
// whose control passed and whose every caller was judged.
func operatorRefusals(ctx context.Context, operatorKey string) (controls, wrong []string) {
	settleBy := time.Now().Add(recoveryTime())
	for _, e := range operatorEndpoints() {
		if !e.uncontrolled { // an uncontrolled write rests on the read of its document
			if op := e.callSettled(ctx, operatorKey, settleBy); !e.admitsOperator(op) {
				controls = append(controls, fmt.Sprintf("%s as the operator: %s", e, op))
				continue
			}
		}
		all := true
		for _, c := range nonOperators() {
			a := e.call(ctx, c.key)
			if !a.refusedForIdentity() {
				wrong = append(wrong, fmt.Sprintf("%s as %s: %s", e, c.path, a))
				all = false
				continue
			}
			judged(c.path, 1)
		}
		if all {
			judged("operator-endpoint:"+e.String(), 1)
		}
	}
	return controls, wrong
}
