package runtime

import (
	"context"
	"sync"

	"github.com/aruntime/arcert/reference/batch"
)

// batchExec is how the batch runner executes a job: exec itself for the conformant runtime, or
// exec behind the label bugs d switches on.
func (d TenancyDefects) batchExec(exec batch.Exec) batch.Exec {
	if d.BatchDropsLabels {
		next := exec
		exec = func(ctx context.Context, p batch.Principal, id string, body []byte) batch.Response {
			return next(ctx, batch.Principal{Tenant: p.Tenant}, id, body)
		}
	}
	if d.BatchStickyPrincipal {
		next := exec
		var once sync.Once
		var session batch.Principal
		exec = func(ctx context.Context, p batch.Principal, id string, body []byte) batch.Response {
			once.Do(func() { session = p })
			return next(ctx, session, id, body)
		}
	}
	return exec
}
