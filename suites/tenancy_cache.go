package suites

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/conformance/target"
)

// pairedTries bounds how many fresh prompts the paired test tries before it gives up on B reaching
// the worker that holds A's prefix (a runtime may route tenants apart, by design or by hashing).
// A runtime that hashes each tenant's prompt to one of k workers puts B's probe on A's worker
// with chance 1/k a try: with 8 tries and two workers a case missed one time in 256, and with
// about 18 cases a run was INCONCLUSIVE one time in 15 (it happened in CI). With 32 tries a run
// misses about one time in 10^8 with two workers and one in 25,000 with three, and they cost
// nothing when B lands early (three requests a try, two tries on average with two workers).
const pairedTries = 32

// pairedReserve is the spec time the paired test keeps in hand: it stops trying (INCONCLUSIVE)
// rather than let a runtime with many workers, or a slow one, run it into its timeout.
const pairedReserve = 15 * time.Second

// cachePromptWords makes a prompt long enough to fill many prefix-cache blocks of any engine
// (about 350 tokens on the reference, 21 blocks of 16; about 260 BPE tokens elsewhere, 16 blocks
// of 16 or 8 of 32), and whose prefill shows in time to first token (TEN-3): about 18 ms uncached
// on the reference against a few cached, about 60 ms on Ollama's tiny CPU model. No longer: TEN-3
// sends 240 of them one after another.
const cachePromptWords = 200

// cacheCase is one way B may try to reach A's cached prefix: the cache_salt A warmed it with and
// the one B sends (either may be empty), the user each names, over one transport.
type cacheCase struct {
	name          string
	aSalt, bSalt  string
	aUser, bUser  string // the body's user each sends, empty for none
	via           string
	tenantA, tenB target.Tenant
}

// cacheCases are, for each tenant A and the tenant B after it (every tenant is A once), B's
// identical prompt; B sending each of A's labels as cache_salt; A and B sending the same client
// salt; B sending none where A sent one; and A and B naming the same end user (user ids are the
// client's, and two tenants' often collide). Transports and endpoints (chat plain, streamed,
// gRPC, legacy completions) rotate over each tenant's cases, offset by tenant so that each kind
// of case meets a different one for each tenant; A fills the cache over the case's own, so a
// cache keyed without the tenant on one route alone (a gRPC door, a legacy gateway route) is
// probed from both sides.
func cacheCases(r *rand.Rand, vias []string) []cacheCase {
	ts := env.Target.Tenants
	var out []cacheCase
	for i, a := range ts {
		b := ts[(i+1)%len(ts)]
		kind := 0
		add := func(c cacheCase) {
			c.via, c.tenantA, c.tenB = vias[(kind+i)%len(vias)], a, b
			out = append(out, c)
			kind++
		}
		add(cacheCase{name: "the identical prompt"})
		for _, l := range tenantLabels(a) {
			add(cacheCase{name: fmt.Sprintf("%s's %s as cache_salt", a.Name, l), bSalt: l.value})
		}
		salt := fmt.Sprintf("arcert-salt-%08x", r.Uint32())
		add(cacheCase{name: "the same cache_salt " + salt + " as " + a.Name, aSalt: salt, bSalt: salt})
		add(cacheCase{name: "no cache_salt where " + a.Name + " sent " + salt, aSalt: salt})
		user := fmt.Sprintf("arcert-user-%08x", r.Uint32())
		add(cacheCase{name: "the same user " + user + " as " + a.Name, aUser: user, bUser: user})
	}
	return out
}

// paired is one paired probe: A's cached repeat and B's probe of the same prompt.
type paired struct {
	control, cross int
	worker         string // where A's repeat ran
	crossWorker    string // where B's last probe ran
	tries          int
	crossWorkers   map[string]int // where B's probes ran, for the INCONCLUSIVE message
	outOfTime      bool           // stopped with pairedReserve of the spec's time left
}

// pairedProbe warms a fresh prompt as A (with A's salt), repeats it as A (the control), and probes
// it as B (with B's salt), all over the case's transport, until B's probe runs on the worker that
// served A's repeat, or until B's probe reports cached tokens wherever it ran: the prompt is
// fresh, so any cached token B gets for it is A's (a cache tier shared between workers leaks on
// other workers too). A runtime that does not name its workers is taken as one place.
func pairedProbe(ctx context.Context, r *rand.Rand, c cacheCase) (paired, bool) {
	last := paired{crossWorkers: map[string]int{}}
	a, b := c.tenantA, c.tenB
	for try := 1; try <= pairedTries; try++ {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < pairedReserve {
			last.outOfTime = true
			return last, false
		}
		p := prompt(r, cachePromptWords)
		first := callAs(ctx, c.via, a, p, 1, labelSpoof{Salt: c.aSalt, User: c.aUser})
		mustBeServed(first, "%s's first request of the prompt", a.Name)
		again := callAs(ctx, c.via, a, p, 1, labelSpoof{Salt: c.aSalt, User: c.aUser})
		mustBeServed(again, "%s's repeat of the prompt", a.Name)
		cross := callAs(ctx, c.via, b, p, 1, labelSpoof{Salt: c.bSalt, User: c.bUser})
		mustBeServed(cross, "%s's probe of %s's prompt", b.Name, a.Name)
		last.control, last.cross, last.worker, last.crossWorker, last.tries = again.Cached, cross.Cached, again.Worker, cross.Worker, try
		last.crossWorkers[cross.Worker]++
		if last.control == 0 {
			return last, false
		}
		if again.Worker == cross.Worker || cross.Cached > 0 {
			return last, true
		}
	}
	return last, false
}

// cacheIsolated is TEN-2: every case's control must hit and B's probe must miss. It returns
// INCONCLUSIVE (through inconclusive) at the first case whose control fails, FAILs at the first
// leak, and records each judged case on its transport and tenant.
func cacheIsolated(ctx context.Context) {
	r := rng(2)
	cases := cacheCases(r, tenancyEndpoints())
	for i, c := range cases {
		what := fmt.Sprintf("%s sending %s over %s", c.tenB.Name, c.name, c.via)
		probe, ok := pairedProbe(ctx, r, c)
		switch {
		case probe.outOfTime:
			inconclusive("the spec ran short of time after %d of %d paired cases (%d tries of %s, its probes on %v): the cases left were not probed",
				i, len(cases), probe.tries, what, probe.crossWorkers)
			return
		case probe.control == 0:
			inconclusive("positive control failed: %s's own repeat reported no cached tokens, so a miss proves nothing", c.tenantA.Name)
			return
		case !ok:
			inconclusive("in %d tries %s never reached the worker holding %s's prefix (its probes ran on %v), so its miss proves nothing",
				probe.tries, what, c.tenantA.Name, probe.crossWorkers)
			return
		}
		evidence("%s: %s's repeat %d cached tokens on %s; %s got %d cached tokens on %s (try %d)",
			what, c.tenantA.Name, probe.control, probe.worker, c.tenB.Name, probe.cross, probe.crossWorker, probe.tries)
		if probe.cross != 0 {
			Fail(fmt.Sprintf("%s reused %s's cached prefix: %d cached tokens for %s, on %s (%s's own repeat got %d on %s)",
				c.tenB.Name, c.tenantA.Name, probe.cross, what, probe.crossWorker, c.tenantA.Name, probe.control, probe.worker))
		}
		judged(c.via, 1)
		judged("tenant:"+c.tenB.Name+"-probing-"+c.tenantA.Name, 1)
	}
	evidence("%d paired cases, every tenant's prefix probed by the next tenant: no cached token crossed", len(cases))
}
