package batch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// resultStoreWait bounds how long a finished job's result is retried before the job is given
// back to the queue, where it runs again. Losing the node that leads the results bucket makes
// writes fail for the few seconds an election takes (seen: "no response from stream" for about
// 5 s against a three-node cluster); each job that gave up then ran twice. The job stays marked
// in progress meanwhile, so the queue does not hand it to another runner.
const resultStoreWait = 30 * time.Second

// resultShutdownGrace is how much longer a result is retried once the runner is stopping: a job
// that has run is stored if the bucket comes back soon, rather than given back to run again, and
// the shutdown waits for it this long at most.
const resultShutdownGrace = 5 * time.Second

// resultAttemptTimeout bounds one attempt. A write sent to a leader that died before it answered
// gets no answer at all; the attempt must give up and try again (at the new leader), not wait out
// the whole resultStoreWait on that one write, holding the job's runner slot.
const resultAttemptTimeout = 3 * time.Second

// resultRetry is the first pause between attempts; it doubles up to resultRetryMax.
const (
	resultRetry    = 250 * time.Millisecond
	resultRetryMax = 2 * time.Second
)

// resultCreator is the one call of the results bucket storeResult makes.
type resultCreator interface {
	Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error)
}

// storeResult creates the result under key, trying again while it fails, for up to wait, or for
// at most resultShutdownGrace more once ctx ends. A result already there counts as stored: the
// job's result is written once, and an earlier attempt may have stored it with its answer lost.
func storeResult(ctx context.Context, kv resultCreator, key string, raw []byte, wait time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(wait)
	stopping := ctx.Done()
	pause := resultRetry
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(time.Until(deadline), resultAttemptTimeout))
		_, err := kv.Create(actx, key, raw)
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrKeyExists) {
			if attempt > 1 {
				log.Info("batch result stored after retrying", "key", key, "attempts", attempt)
			}
			return nil
		}
		if attempt == 1 {
			log.Warn("batch result not stored yet; retrying with the job kept in progress", "key", key, "err", err)
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("after %d attempts in %s: %w", attempt, wait, err)
		}
		select {
		case <-stopping:
			stopping = nil // once: the grace starts when the runner is told to stop
			if grace := time.Now().Add(resultShutdownGrace); grace.Before(deadline) {
				deadline = grace
			}
			attempt-- // not an attempt: the pause was cut short
		case <-time.After(pause):
			pause = min(2*pause, resultRetryMax)
		}
	}
}
