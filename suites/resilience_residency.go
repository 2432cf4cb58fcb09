package suites

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/aruntime/arcert/conformance/target"
)

// tenantContextPrints are the fingerprints of t's tenant context a worker records for every
// request it runs (operations.worker_credentials): its name, application and user, each with
// what it is.
func tenantContextPrints(t target.Tenant) map[string]string {
	mine := map[string]string{credentialFingerprint(t.Name): "its tenant name"}
	if t.Application != "" {
		mine[credentialFingerprint(t.Application)] = "its application label"
	}
	if t.User != "" {
		mine[credentialFingerprint(t.User)] = "its user label"
	}
	return mine
}

// workerRecordsDeclared reports whether the target declares each worker's own record of what
// reached it (operations.worker_credentials) and an operator credential to read it with.
func workerRecordsDeclared() bool {
	ops := env.Target.Operations
	return ops != nil && ops.WorkerCredentials != "" && env.Target.Operator != nil
}

// workerRecord reads worker w's own record of what reached it, as the operator; the target must
// declare it (workerRecordsDeclared).
func workerRecord(ctx context.Context, w string) workerCredentials {
	var rec workerCredentials
	path := strings.ReplaceAll(env.Target.Operations.WorkerCredentials, "{worker}", w)
	opsCheck(getJSON(ctx, path, env.Target.Operator.Key, &rec) == http.StatusOK, "GET %s as the operator failed", path)
	return rec
}

// residencyLeaks reads every worker's own record of the tenant context that reached it and
// returns, for each tenant of ts, every worker outside the tenant's allowed regions whose record
// shows the tenant's context: its data reached a region its policy forbids, whatever the answers
// said. A runtime's labels say where an answer came from, not where else the prompt went (a
// hedged or speculative call, a warm-up of the standby). It also returns how many worker records
// were judged; the positive control is that some worker in an allowed region shows each tenant's
// name, else (and without such records) the path is recorded as not probed and nothing is judged.
func residencyLeaks(ctx context.Context, ts []target.Tenant) (leaks []string, judgedRecords int) {
	const path = "worker-records"
	if !workerRecordsDeclared() {
		notProbed(path, "the target declares no operations.worker_credentials (or no operator credential), so where a tenant's data reached cannot be read off the workers")
		return nil, 0
	}
	workers := versionsNow(ctx)
	records := map[string]workerCredentials{}
	for _, w := range workers {
		records[w.Worker] = workerRecord(ctx, w.Worker)
	}
	for _, t := range ts {
		mine, shown := tenantContextPrints(t), false
		for _, w := range workers {
			rec := records[w.Worker]
			if slices.Contains(t.DataPolicy.AllowedRegions, w.Region) {
				shown = shown || slices.Contains(rec.Credentials, credentialFingerprint(t.Name))
				continue
			}
			var seen []string
			for _, fp := range rec.Credentials {
				if what, ok := mine[fp]; ok {
					seen = append(seen, what)
				}
			}
			if len(seen) > 0 {
				slices.Sort(seen)
				leaks = append(leaks, fmt.Sprintf("worker %s in region %s, outside %s's allowed %s, was sent %s's context (%s)",
					w.Worker, w.Region, t.Name, listed(t.DataPolicy.AllowedRegions), t.Name, strings.Join(seen, ", ")))
			}
			judgedRecords++
		}
		if !shown {
			notProbed(path, "no worker in %s's allowed regions shows its name in its record (positive control): the records do not show tenant context", t.Name)
			return nil, 0
		}
	}
	judged(path, judgedRecords)
	return leaks, judgedRecords
}
