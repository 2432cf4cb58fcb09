package target

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"

	"github.com/aruntime/arcert/internal/yamlschema"
)

// crossCheck enforces what the schema cannot say: references between sections resolve, and
// credentials are distinct identities.
func (t *Target) crossCheck() []*yamlschema.Problem {
	var probs []*yamlschema.Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, &yamlschema.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	classes := map[string]bool{}
	for i, c := range t.TrafficClasses {
		if classes[c.Name] {
			add(fmt.Sprintf("traffic_classes[%d].name", i), "traffic class %q is declared twice", c.Name)
		}
		classes[c.Name] = true
	}
	keys := map[string]string{}
	claim := func(field, key string) {
		if prev, ok := keys[key]; ok {
			add(field, "this credential is already used at %s; every identity needs its own", prev)
		}
		keys[key] = field
	}
	names := map[string]bool{}
	for i, tn := range t.Tenants {
		f := fmt.Sprintf("tenants[%d]", i)
		if names[tn.Name] {
			add(f+".name", "tenant %q is declared twice", tn.Name)
		}
		names[tn.Name] = true
		claim(f+".key", tn.Key)
		for j, c := range tn.TrafficClasses {
			if !classes[c] {
				add(fmt.Sprintf("%s.traffic_classes[%d]", f, j), "traffic class %q is not declared under traffic_classes", c)
			}
		}
	}
	if t.Operator != nil {
		claim("operator.key", t.Operator.Key)
	}
	if t.Workload != nil {
		claim("workload.key", t.Workload.Key)
	}
	if t.Operations != nil && t.Operations.Protected != nil {
		for i, k := range t.Operations.Protected.Operators {
			claim(fmt.Sprintf("operations.protected.operators[%d]", i), k)
		}
		if k := t.Operations.Protected.SameOperatorKey; k != "" {
			claim("operations.protected.same_operator_key", k)
		}
	}
	for i, m := range t.Models {
		if m.MaxOutputTokens > m.ContextLength {
			add(fmt.Sprintf("models[%d].max_output_tokens", i), "%d is more than the context length %d", m.MaxOutputTokens, m.ContextLength)
		}
	}
	if (t.Declares("rollout") || t.Declares("artifacts")) && t.Operations == nil {
		add("operations", "features rollout and artifacts need the operations section: how to drive the control plane")
	}
	probs = append(probs, t.checkProtected()...)
	if (t.Declares("device-pressure") || t.Declares("device-faults")) && (t.Devices == nil || t.Operator == nil) {
		add("devices", "features device-pressure and device-faults need the devices section (the device hook) and the operator credential")
	}
	if t.Declares("confidential-compute") && (t.Confidential == nil || t.Devices == nil || t.Operator == nil) {
		add("confidential", "feature confidential-compute needs the confidential section, the devices section (the device hook turns attestations stale or forged) and the operator credential")
	}
	if t.Confidential != nil {
		if k, err := base64.StdEncoding.DecodeString(t.Confidential.PublicKey); err != nil || len(k) != ed25519.PublicKeySize {
			add("confidential.public_key", "want a base64 ed25519 public key (%d bytes)", ed25519.PublicKeySize)
		}
		for i, ct := range t.Confidential.Tenants {
			claim(fmt.Sprintf("confidential.tenants[%d].key", i), ct.Key)
			if !ct.DataPolicy.ConfidentialCompute {
				add(fmt.Sprintf("confidential.tenants[%d].data_policy.confidential_compute", i), "a tenant declared confidential must say so in its data policy")
			}
		}
	}
	if t.Declares("grpc") && t.Endpoints.GRPC == "" {
		add("endpoints.grpc", "the target declares feature grpc but gives no gRPC endpoint")
	}
	for i, r := range t.Endpoints.More {
		f := fmt.Sprintf("endpoints.more[%d].grpc", i)
		switch {
		case t.Declares("grpc") && r.GRPC == "":
			add(f, "the target declares feature grpc but this router gives no gRPC endpoint; every router listed must serve both wires")
		case t.Endpoints.GRPC != "" && r.GRPC == "":
			add(f, "the primary router gives a gRPC endpoint (endpoints.grpc), so every further router must: gRPC requests are spread over the same routers as HTTP ones")
		case t.Endpoints.GRPC == "" && r.GRPC != "":
			add(f, "the primary router gives no gRPC endpoint (endpoints.grpc), so no further router may: gRPC requests are spread over the same routers as HTTP ones")
		}
	}
	if len(t.Models) > 0 && t.Capacity.ProbeMaxTokens > t.Models[0].MaxOutputTokens {
		add("capacity.probe_max_tokens", "%d is more than model %s produces", t.Capacity.ProbeMaxTokens, t.Models[0].Name)
	}
	probs = append(probs, t.checkContract()...)
	probs = append(probs, t.checkAutoscaling()...)
	probs = append(probs, t.checkDeployment()...)
	tools := t.checkTools(claim) // claim may add to probs itself: call it first
	return append(probs, tools...)
}
