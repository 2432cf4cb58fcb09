package suites

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// spliceStreams is how many streams run at once when one worker of several is lost: enough that
// some run on it and some on the others, few enough that each starts at once. spliceTries is how
// many runs, each losing another worker, may be made before the spec is INVALID: two keep a wire
// within streamLossTimeout when each loss is a container's restart.
const (
	spliceStreams = 8
	spliceTries   = 2
)

// expectOneLossCutsOnlyItsStreams runs spliceStreams long streams over via at once, loses one of
// the region's workers once every stream has output, and judges each end. Losing every worker of
// the region, as expectStreamCutFails does, leaves a runtime no worker to move a cut stream to;
// with the others up, a runtime that runs a stream cut mid-output again elsewhere and appends the
// new output to what the client already has (the same words twice, over max_tokens) is seen: a
// stream may end failed, or served with at most its max_tokens, never more.
//
// Where the streams land is the runtime's choice (a worker just restarted may not be routed to
// yet), so a loss may meet none of them. Then the run is made again losing another worker: first
// one the streams say served them, else the next untried part, up to spliceTries runs. Every
// run's ends are judged; the spec is INVALID only when no run's loss cut a stream. It reports
// whether the spec may go on.
func expectOneLossCutsOnlyItsStreams(ctx context.Context, via, region string, parts []string) bool {
	var tried []string
	var ends []streamEnd // the last run's, which name where its streams ran
	for victim := parts[0]; victim != "" && len(tried) < spliceTries; victim = nextVictim(ends, parts, tried) {
		tried = append(tried, victim)
		var ok bool
		if ends, ok = spliceRun(ctx, via, region, victim); !ok {
			return false
		}
		cut, served, spliced := judgeSpliceEnds(ends, via, victim)
		if cut+spliced > 0 {
			judgedFor("OUT-7", via+":one-of-several-lost", cut)
			evidence("%d streams over %s at once, %s lost when each had output (run %d): %d ended failed mid-stream, %d served by the other workers within max_tokens",
				spliceStreams, via, victim, len(tried), cut, served)
			return true
		}
		evidence("none of the %d streams over %s was cut when %s was lost (%d served): none ran on it", spliceStreams, via, victim, served)
	}
	invalid("none of the %d streams over %s was cut by the loss of %s, one at a time: none ran on the lost worker", spliceStreams, via, listed(tried))
	return false
}

// nextVictim returns the worker to lose after a run that cut no stream: the first untried part a
// stream of that run says served it, else the first untried part, else "" (every part tried).
func nextVictim(ends []streamEnd, parts, tried []string) string {
	for _, e := range ends {
		if slices.Contains(parts, e.worker) && !slices.Contains(tried, e.worker) {
			return e.worker
		}
	}
	for _, p := range parts {
		if !slices.Contains(tried, p) {
			return p
		}
	}
	return ""
}

// spliceRun starts the streams, loses victim once every one has output, waits for their ends and
// brings victim back. ok is false when the run is INVALID (a stream ended before the loss).
func spliceRun(ctx context.Context, via, region, victim string) ([]streamEnd, bool) {
	awaitSteady(ctx)
	tenants := []target.Tenant{tenantA(), tenantB()}
	// The streams write here, and may still after an early return: never the caller's slice.
	ends := make([]streamEnd, spliceStreams)
	// Each stream says once that it is running, or that it ended before it was: one stream that
	// ended early makes the run INVALID at once rather than wait out the spec for it.
	running, early := make(chan int, spliceStreams), make(chan int, spliceStreams)
	var wg sync.WaitGroup
	for i := range spliceStreams {
		t := tenants[i%len(tenants)]
		content := fmt.Sprintf("%s %s splice %d", prompt(rng(371+uint64(i)), 8), via, i)
		wg.Go(func() {
			var ran atomic.Bool
			ends[i] = streamOver(ctx, via, t, content, func() { ran.Store(true); running <- i })
			if !ran.Load() {
				early <- i
			}
		})
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	for range spliceStreams { // the loss must meet every stream running
		select {
		case <-running:
		case <-early:
			invalid("a stream over %s ended before %d tokens, before %s could be lost while all %d ran", via, midStreamAfter, victim, spliceStreams)
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
	heal := loseWorkers(ctx, region, victim)
	Eventually(allDone).WithContext(ctx).WithTimeout(tenantDeadline(tenantA())+deadlineGrace).Should(BeClosed(), "the streams over %s did not end after %s was lost", via, victim)
	Expect(heal()).To(Succeed())
	return ends, true
}

// judgeSpliceEnds judges each stream's end after victim was lost and counts the ends cut (failed
// mid-stream), served, and spliced (more output than max_tokens).
func judgeSpliceEnds(ends []streamEnd, via, victim string) (cut, served, spliced int) {
	for i, end := range ends {
		if end.output > midStreamTokens {
			spliced++
		}
		judgeThat(end.err == nil, "stream %d over %s broke without an outcome when %s was lost (%d tokens)", i, via, victim, end.output)
		judgeThat(end.output <= midStreamTokens, "stream %d over %s carried %d tokens for max_tokens %d when %s was lost mid-output: a stream cut mid-output was run again on another worker and its output appended to what the client already had (%s)",
			i, via, end.output, midStreamTokens, victim, end)
		judgeThat(len(end.violations) == 0, "stream %d over %s: its end broke the contract: %v", i, via, end.violations)
		switch {
		case end.failedMid:
			judgeThat(end.class == outcome.Failed, "stream %d over %s ended with an error but not failed after %s was lost: %s", i, via, victim, end)
			cut++
		case end.class.Served():
			served++
		}
	}
	return cut, served, spliced
}
