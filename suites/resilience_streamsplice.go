package suites

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/conformance/target"
)

// spliceStreams is how many streams run at once when one worker of several is lost: enough that
// some run on it and some on the others, few enough that each starts at once.
const spliceStreams = 8

// expectOneLossCutsOnlyItsStreams runs spliceStreams long streams over via at once, loses victim
// (one of the region's workers) once every stream has output, and judges each end. Losing every
// worker of the region, as expectStreamCutFails does, leaves a runtime no worker to move a cut
// stream to; with the others up, a runtime that runs a stream cut mid-output again elsewhere and
// appends the new output to what the client already has (the same words twice, over max_tokens)
// is seen: a stream may end failed, or served with at most its max_tokens, never more. It
// reports whether the spec may go on (false after INVALID).
func expectOneLossCutsOnlyItsStreams(ctx context.Context, via, region, victim string) bool {
	awaitSteady(ctx)
	tenants := []target.Tenant{tenantA(), tenantB()}
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
			return false
		case <-ctx.Done():
			return false
		}
	}
	heal := loseWorkers(ctx, region, victim)
	Eventually(allDone).WithContext(ctx).WithTimeout(tenantDeadline(tenantA())+deadlineGrace).Should(BeClosed(), "the streams over %s did not end after %s was lost", via, victim)
	Expect(heal()).To(Succeed())
	cut, served, spliced := 0, 0, 0
	for i, end := range ends {
		if end.tokens > midStreamTokens {
			spliced++
		}
		judgeThat(end.err == nil, "stream %d over %s broke without an outcome when %s was lost (%d tokens)", i, via, victim, end.tokens)
		judgeThat(end.tokens <= midStreamTokens, "stream %d over %s carried %d tokens for max_tokens %d when %s was lost mid-output: a stream cut mid-output was run again on another worker and its output appended to what the client already had (%s)",
			i, via, end.tokens, midStreamTokens, victim, end)
		judgeThat(len(end.violations) == 0, "stream %d over %s: its end broke the contract: %v", i, via, end.violations)
		switch {
		case end.failedMid:
			judgeThat(end.class == outcome.Failed, "stream %d over %s ended with an error but not failed after %s was lost: %s", i, via, victim, end)
			cut++
		case end.class.Served():
			served++
		}
	}
	if cut+spliced == 0 {
		invalid("none of the %d streams over %s was cut when %s was lost (%d served): none ran on it", spliceStreams, via, victim, served)
		return false
	}
	judgedFor("OUT-7", via+":one-of-several-lost", cut)
	evidence("%d streams over %s at once, %s lost when each had output: %d ended failed mid-stream, %d served by the other workers within max_tokens", spliceStreams, via, victim, cut, served)
	return true
}
