package suites

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// deadlineTolerance is how late past its traffic class's deadline an outcome may reach the
// client in a load run: writing the response and the client's own scheduling on a host shared
// with the runtime. An outcome later than that means the deadline was not enforced: work waited
// in a queue, or ran, past it (a runtime that does not count queue wait against the deadline
// answers timed_out long after it).
const deadlineTolerance = time.Second

// classTenants are the declared tenants that may use traffic class name.
func classTenants(name string) []target.Tenant {
	var out []target.Tenant
	for _, t := range env.Target.Tenants {
		if slices.Contains(t.TrafficClasses, name) {
			out = append(out, t)
		}
	}
	return out
}

// slowestClass is the tenant's class with the longest deadline: the bound on any outcome of a
// request that names no class (the tenant's default class is not part of the record).
func slowestClass(t target.Tenant) target.TrafficClass {
	var out target.TrafficClass
	for _, name := range t.TrafficClasses {
		if k, ok := declaredIn(env.Target.TrafficClasses, name); ok && k.Deadline > out.Deadline {
			out = k
		}
	}
	if out.Deadline == 0 { // the record names none of the tenant's classes: any declared one may be its default
		for _, k := range env.Target.TrafficClasses {
			if k.Deadline > out.Deadline {
				out = k
			}
		}
	}
	return out
}

// ofClass returns the entries of a run that asked for class name.
func ofClass(entries []chaosledger.Entry, name string) []chaosledger.Entry {
	return chaosledger.Where(entries, func(e chaosledger.Entry) bool { return e.Class == name })
}

// admittedOf are the entries that were admitted: served, or timed out once admitted.
func admittedOf(entries []chaosledger.Entry) []chaosledger.Entry {
	return chaosledger.Where(entries, func(e chaosledger.Entry) bool {
		return answered(e) && (e.Outcome.Served() || e.Outcome == outcome.TimedOut)
	})
}

// withOutcome returns the entries that ended with class c.
func withOutcome(entries []chaosledger.Entry, c outcome.Class) []chaosledger.Entry {
	return chaosledger.Where(entries, func(e chaosledger.Entry) bool { return answered(e) && e.Outcome == c })
}

// lateness is the time judgement of a load run: every request must reach an outcome, and reach
// it within its class's deadline plus deadlineTolerance.
type lateness struct {
	judged int
	// late are the outcomes that came after the deadline and tolerance; lost, the requests that
	// reached no outcome at all (a transport error, or the run's own context ending).
	late, lost []chaosledger.Entry
	worst      time.Duration
}

// judgeLateness checks the entries of one class against that class's deadline.
func judgeLateness(entries []chaosledger.Entry, k target.TrafficClass) lateness {
	var l lateness
	for _, e := range entries {
		l.judged++
		switch {
		case !answered(e) || e.Outcome == "":
			l.lost = append(l.lost, e)
		case e.Latency() > k.Deadline+deadlineTolerance:
			l.late = append(l.late, e)
		}
		l.worst = max(l.worst, e.Latency())
	}
	return l
}

// ok reports whether every outcome came, and came in time.
func (l lateness) ok() bool { return len(l.late) == 0 && len(l.lost) == 0 }

// String says, for people, what went wrong: how many were late or lost, with the first examples.
func (l lateness) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d requests ended late and %d reached no outcome (slowest %s)", len(l.late), l.judged, len(l.lost), l.worst.Round(time.Millisecond))
	for i, e := range l.late {
		if i == 3 {
			break
		}
		fmt.Fprintf(&b, "; %s/%s after %s", e.Outcome, e.Reason, e.Latency().Round(time.Millisecond))
	}
	for i, e := range l.lost {
		if i == 3 {
			break
		}
		fmt.Fprintf(&b, "; no outcome: %s", cmp.Or(e.Error, "none stated"))
	}
	return b.String()
}

// quotaRecovery bounds how long a probe waits for its tenant's quota to refill: another spec's
// quota run may have just spent it, and a probe refused for quota decides nothing about the rule
// it probes (a class, a price, a version).
const quotaRecovery = 10 * time.Second

// quotaRefusal reports whether an answer is a refusal for the tenant's own quota or concurrency.
func quotaRefusal(c outcome.Class, r outcome.Reason) bool {
	return c == outcome.Rejected && (r == outcome.ReasonQuotaExceeded || r == outcome.ReasonConcurrencyExceeded)
}

// pastQuota calls try until its answer is not a quota refusal, waiting between tries as long as
// the answer's Retry-After (a fifth of a second without one), for at most quotaRecovery. It
// returns the last answer.
func pastQuota[T any](ctx context.Context, try func() T, refusal func(T) (bool, time.Duration)) T {
	deadline := time.Now().Add(quotaRecovery)
	for {
		got := try()
		again, wait := refusal(got)
		if !again || time.Now().After(deadline) {
			return got
		}
		if wait <= 0 || wait > time.Second {
			wait = 200 * time.Millisecond
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return got
		case <-t.C:
		}
	}
}

// sendServable is send, retried past a refusal for the tenant's own quota.
func sendServable(ctx context.Context, key string, body openai.CompletionRequest, hdr http.Header) driver.Result {
	return pastQuota(ctx, func() driver.Result { return send(ctx, key, body, hdr) },
		func(r driver.Result) (bool, time.Duration) { return quotaRefusal(r.Outcome, r.Reason), r.RetryAfter })
}

// mustHold fails the spec with a sentence for people, without a matcher's dump, when ok is false.
func mustHold(ok bool, format string, args ...any) {
	if !ok {
		ginkgo.Fail(fmt.Sprintf(format, args...), 1)
	}
}
