package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/aruntime/arcert/api/discovery"
	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// Load of the evidence-completeness spec: evdWaves waves, each firing evdPerPath requests per
// tenant and client path at once, one refused and one cancelled mid-stream per tenant and one
// with a credential nobody issued, so that records reach the
// evidence service together and are appended in groups (a chain written one record at a time
// hides a link computed wrongly inside a group); a batch goes in with the first wave.
const (
	evdWaves   = 3
	evdPerPath = 6
	// evdRefusedTokens is far over any model's output limit: the request is rejected, and its
	// refusal must have its record too.
	evdRefusedTokens = 1 << 20
	// evdCancelledTokens is long enough for the caller to leave mid-stream.
	evdCancelledTokens = 64
	// evdNoKey is a credential no target issues.
	evdNoKey = "arcert-evidence-no-such-key"
)

// evdReader is the key that reads the record of s: the tenant's own, or the operator's for a
// caller refused before identity.
func evdReader(s evdSent) string {
	if s.tenant.Name == "" {
		return env.Target.Operator.Key
	}
	return s.tenant.Key
}

// evdSent is one request of the burst whose record is looked up afterwards.
type evdSent struct {
	path   string
	tenant target.Tenant
	id     string
}

// evidenceBurst fires one wave: every tenant on every client path at once, plus one refusal and
// one caller leaving mid-stream each, and one unauthenticated caller.
func evidenceBurst(ctx context.Context, r *rand.Rand, wave int) []evdSent {
	type shot struct {
		path, text string
		tenant     target.Tenant
		tokens     int
	}
	var shots []shot
	for _, t := range env.Target.Tenants {
		for _, path := range clientPaths() {
			for range evdPerPath {
				shots = append(shots, shot{path: path, tenant: t, text: fmt.Sprintf("wave %d: %s", wave, prompt(r, 6)), tokens: 2})
			}
		}
		shots = append(shots, shot{path: "refusal", tenant: t, text: "refused: " + prompt(r, 4), tokens: evdRefusedTokens})
		shots = append(shots, shot{path: "cancelled", tenant: t, text: "cancelled: " + prompt(r, 6), tokens: evdCancelledTokens})
	}
	// A caller no tenant owns: refused before identity, its record is the operator's to read.
	shots = append(shots, shot{path: "unauthenticated", tenant: target.Tenant{Name: "", Key: evdNoKey}, text: "who am I?", tokens: 2})
	out := make([]evdSent, len(shots))
	errs := make([]error, len(shots))
	var wg sync.WaitGroup
	for i, s := range shots {
		wg.Go(func() {
			out[i] = evdSent{path: s.path, tenant: s.tenant}
			if s.path == opsGRPC {
				res, err := env.GRPC.Complete(ctx, s.tenant.Key, &arcertv1.CompleteRequest{Model: model().Name,
					Messages: []*arcertv1.ChatMessage{{Role: "user", Content: s.text}}, MaxTokens: int64(s.tokens)})
				out[i].id, errs[i] = res.RequestID, err
				return
			}
			if s.path == "cancelled" {
				// The caller goes away at the first token: the request still has its one record.
				cctx, cancel := context.WithCancel(ctx)
				defer cancel()
				res, _ := env.HTTP.Do(cctx, driver.Call{Path: driver.PathChatCompletions, Key: s.tenant.Key, Body: probe(s.text, s.tokens, true),
					OnContent: func(int) { cancel() }})
				out[i].id = res.RequestID
				return
			}
			res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: s.tenant.Key, Body: probe(s.text, s.tokens, s.path == opsHTTPStream)})
			out[i].id, errs[i] = res.RequestID, err
		})
	}
	wg.Wait()
	for i, err := range errs {
		opsCheck(err == nil, "wave %d: a %s request as %s could not be exchanged: %v", wave, out[i].path, out[i].tenant.Name, err)
		opsCheck(out[i].id != "", "wave %d: a %s request as %s has no request id", wave, out[i].path, out[i].tenant.Name)
	}
	return out
}

// chainProblem is why records do not form a verified chain, "" when they do.
func chainProblem(all []discovery.Record) string {
	if len(all) == 0 {
		return "the operator's listing has no record"
	}
	if err := discovery.VerifyChain(all); err != nil {
		return err.Error()
	}
	return ""
}
