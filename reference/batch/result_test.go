package batch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// flakyBucket fails its first failures Creates with err, then stores. With hang set, a failing
// Create waits for its context instead, as a write to a leader that died before answering does.
type flakyBucket struct {
	failures, calls int
	err             error
	hang            bool
	stored          []byte
}

func (f *flakyBucket) Create(ctx context.Context, _ string, v []byte, _ ...jetstream.KVCreateOpt) (uint64, error) {
	f.calls++
	if f.calls <= f.failures {
		if f.hang {
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return 0, f.err
	}
	if f.stored != nil {
		return 0, jetstream.ErrKeyExists
	}
	f.stored = v
	return 1, nil
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A result write that fails while the bucket elects a leader is tried again until it is stored:
// the job is not handed back to run a second time.
func TestStoreResultRetriesUntilStored(t *testing.T) {
	kv := &flakyBucket{failures: 3, err: nats.ErrNoResponders}
	if err := storeResult(t.Context(), kv, "k", []byte("result"), 10*time.Second, quiet); err != nil {
		t.Fatalf("storeResult: %v", err)
	}
	if kv.calls != 4 || string(kv.stored) != "result" {
		t.Errorf("%d calls, stored %q; want 4 calls and the result stored", kv.calls, kv.stored)
	}
	// Already there (an earlier attempt stored it, its answer lost): stored, not an error.
	if err := storeResult(t.Context(), kv, "k", []byte("result"), time.Second, quiet); err != nil {
		t.Errorf("result already stored: %v, want nil", err)
	}
}

// A write that gets no answer is given up after resultAttemptTimeout and tried again, not waited
// on for the whole resultStoreWait.
func TestStoreResultGivesUpAnUnansweredAttempt(t *testing.T) {
	kv := &flakyBucket{failures: 1, hang: true}
	start := time.Now()
	if err := storeResult(t.Context(), kv, "k", []byte("r"), resultStoreWait, quiet); err != nil || kv.stored == nil {
		t.Fatalf("storeResult: %v, stored %q; want stored on the second attempt", err, kv.stored)
	}
	if took := time.Since(start); took > resultAttemptTimeout+2*time.Second {
		t.Errorf("stored after %s: the unanswered attempt held it past its %s", took, resultAttemptTimeout)
	}
}

// A bucket that stays down past the wait, or a cancelled context, gives the job back with an
// error naming the last failure.
func TestStoreResultGivesUpAfterItsWait(t *testing.T) {
	kv := &flakyBucket{failures: 1 << 30, err: nats.ErrNoResponders}
	start := time.Now()
	err := storeResult(t.Context(), kv, "k", []byte("r"), time.Second, quiet)
	if !errors.Is(err, nats.ErrNoResponders) || kv.calls < 2 {
		t.Fatalf("err %v after %d calls; want the bucket's error after several", err, kv.calls)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("gave up after %s, want about the 1 s wait", took)
	}
}

// A runner told to stop still stores a finished job's result if the bucket comes back within the
// grace (the job would otherwise run again), and gives up after the grace, not after the full wait.
func TestStoreResultKeepsTryingBrieflyWhenStopping(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	kv := &flakyBucket{failures: 2, err: nats.ErrNoResponders}
	if err := storeResult(ctx, kv, "k", []byte("r"), time.Minute, quiet); err != nil || kv.stored == nil {
		t.Errorf("stopping, bucket back after 2 failures: %v, stored %q; want stored", err, kv.stored)
	}
	start := time.Now()
	err := storeResult(ctx, &flakyBucket{failures: 1 << 30, err: nats.ErrNoResponders}, "k", []byte("r"), time.Minute, quiet)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Errorf("stopping, bucket down: %v, want its error", err)
	}
	if took := time.Since(start); took > resultShutdownGrace+3*time.Second {
		t.Errorf("stopping: gave up after %s, want within the %s grace", took, resultShutdownGrace)
	}
}
