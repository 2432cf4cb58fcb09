package routing

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// ErrNoPrefill means no healthy prefill worker serves the model in the region asked for; the
// decode worker then prefills the prompt itself.
var ErrNoPrefill = errors.New("routing: no healthy prefill worker")

// PrefillFor runs req's prompt on a healthy prefill worker of region, which hands its KV to the
// shared cache tier in the tenant's scope; the decode worker that serves req afterwards finds it
// there and only decodes. That is disaggregated prefill/decode: a long prompt never prefills on a
// worker whose running streams would wait out its prefill between two tokens. Prefill workers
// are picked by load and the prompt's affinity, inside the region the plan chose, so the
// tenant's data stays where its policy allows. It returns the prefill worker's id.
func (p *Pool) PrefillFor(ctx context.Context, region string, affinity uint64, req *arcertv1.GenerateRequest) (string, error) {
	ws := p.set.Load().prefill[req.GetModel()]
	var chosen *Worker
	for _, w := range ws {
		if w.Healthy() && w.Region == region && !w.UnderPressure() && (chosen == nil || w.Outstanding() < chosen.Outstanding() ||
			affinity != 0 && w.Outstanding() == chosen.Outstanding() && rendezvous(affinity, w.idHash) > rendezvous(affinity, chosen.idHash)) {
			chosen = w
		}
	}
	if chosen == nil {
		return "", fmt.Errorf("%w: model %q in %s", ErrNoPrefill, req.GetModel(), region)
	}
	chosen.outstanding.Add(1)
	defer chosen.outstanding.Add(-1)
	pre, _ := proto.Clone(req).(*arcertv1.GenerateRequest)
	pre.PrefillOnly = true
	ctx, release := chosen.Call(ctx) // a silent prefill worker must not hold the request up
	defer release()
	stream, err := chosen.Client.Generate(ctx, pre)
	if err != nil {
		return chosen.ID, fmt.Errorf("routing: prefill on %s: %w", chosen.ID, err)
	}
	for {
		msg, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return chosen.ID, fmt.Errorf("routing: prefill on %s ended without a final message", chosen.ID)
		case err != nil:
			return chosen.ID, fmt.Errorf("routing: prefill on %s: %w", chosen.ID, err)
		case msg.GetUsage() != nil:
			return chosen.ID, nil
		}
	}
}
