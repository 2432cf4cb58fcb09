package routing

import (
	"context"
	"sync"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// WorkerVersion is one worker's Versions answer, or why there is none.
type WorkerVersion struct {
	Worker *Worker
	Resp   *arcertv1.VersionsResponse
	Err    error
}

// Versions asks every worker, concurrently and each within VersionsTimeout,
// what it has applied, for the versions discovery endpoint. A worker that
// does not answer is reported with its error rather than left out, so the
// harness sees it. Results are in configuration order.
func (p *Pool) Versions(ctx context.Context) []WorkerVersion {
	ws := p.set.Load().workers
	out := make([]WorkerVersion, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, VersionsTimeout)
			defer cancel()
			resp, err := w.Client.Versions(cctx, &arcertv1.VersionsRequest{})
			out[i] = WorkerVersion{Worker: w, Resp: resp, Err: err}
		})
	}
	wg.Wait()
	return out
}
