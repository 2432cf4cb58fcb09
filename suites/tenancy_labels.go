package suites

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/target"
)

// labelWant is what every evidence record of one tenant's requests must carry: the application and
// user of its credential, and the client's own user label when the runtime records one.
type labelWant struct {
	application, user string
	// clientUser is the body's user label the requests send; recorded says whether the runtime
	// records it (it did on the plain HTTP request), so every path must.
	clientUser string
	recorded   bool
}

// labelBaseline sends t's plain HTTP request and derives what every path must record from the
// target's declaration, or from that record where the target declares nothing.
func labelBaseline(ctx context.Context, t target.Tenant, clientUser string) (labelWant, discovery.Record) {
	c := callAs(ctx, viaHTTP, t, "label me", 2, labelSpoof{User: clientUser})
	mustBeServed(c, "%s's request over http", t.Name)
	recs := evidenceFor(ctx, t.Key, c.ID)
	if len(recs) != 1 {
		Fail(fmt.Sprintf("%s reads %d evidence records of its request %s, not 1", t.Name, len(recs), c.ID))
	}
	w := labelWant{application: t.Application, user: t.User, clientUser: clientUser, recorded: recs[0].ClientUser != ""}
	if w.application == "" {
		w.application = recs[0].Application
	}
	if w.user == "" {
		w.user = recs[0].User
	}
	if w.application == "" || w.user == "" {
		Fail(fmt.Sprintf("%s's evidence of request %s names application %q and user %q, and the target declares neither: a label is missing", t.Name, c.ID, recs[0].Application, recs[0].User))
	}
	return w, recs[0]
}

// labelProblem says which label the record lost or changed; "" when none.
func labelProblem(w labelWant, recs []discovery.Record) string {
	if len(recs) != 1 {
		return fmt.Sprintf("%d evidence records instead of 1", len(recs))
	}
	r := recs[0]
	var wrong []string
	if r.Application != w.application {
		wrong = append(wrong, fmt.Sprintf("application %q instead of %q", r.Application, w.application))
	}
	if r.User != w.user {
		wrong = append(wrong, fmt.Sprintf("user %q instead of %q", r.User, w.user))
	}
	if w.recorded && r.ClientUser != w.clientUser {
		wrong = append(wrong, fmt.Sprintf("client user label %q instead of %q", r.ClientUser, w.clientUser))
	}
	return strings.Join(wrong, ", ")
}

var _ = Describe("Tenancy labels", func() {
	It("keeps the application and user labels on every path", Req("TEN-7"), func(ctx SpecContext) {
		vias := tenancyEndpoints()
		batches := env.Target.Declares("queue")
		if !batches {
			notProbed("batch-api", "the target does not declare the batch queue")
		}
		var problems []string
		n := 0
		note := func(where, p string) {
			if p != "" {
				problems = append(problems, where+": "+p)
			}
			n++
		}
		for _, t := range env.Target.Tenants {
			clientUser := fmt.Sprintf("arcert-end-user-%s-%d", t.Name, env.Seed)
			w, base := labelBaseline(ctx, t, clientUser)
			note(t.Name+" over http", labelProblem(w, []discovery.Record{base}))
			judged(viaHTTP, 1)
			for _, via := range vias[1:] {
				c := callAs(ctx, via, t, "label me", 2, labelSpoof{User: clientUser})
				mustBeServed(c, "%s's request over %s", t.Name, via)
				note(fmt.Sprintf("%s over %s (request %s)", t.Name, via, c.ID), labelProblem(w, evidenceFor(ctx, t.Key, c.ID)))
				judged(via, 1)
			}
			if batches {
				done := awaitBatch(ctx, t.Key, submitTenancyBatch(ctx, t, nil, clientUser, "", "label me").ID)
				for _, o := range done.Output {
					id := o.Response.RequestID
					note(fmt.Sprintf("%s's batch job %s (request %s)", t.Name, o.CustomID, id), labelProblem(w, evidenceFor(ctx, t.Key, id)))
					judged("batch-api", 1)
				}
			}
			judged("tenant:"+t.Name, 1)
		}
		evidence("%d evidence records of every tenant over %s%s: %d lost or changed the application or user", n, strings.Join(vias, ", "),
			map[bool]string{true: " and the batch API", false: ""}[batches], len(problems))
		if len(problems) > 0 {
			Fail(fmt.Sprintf("%d of %d evidence records lost the labels of the credential: %s", len(problems), n, strings.Join(firstOf(problems, 3), "; ")))
		}
	}, SpecTimeout(2*time.Minute))
})
