package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// clusterPatience is how long a start keeps creating its streams and buckets while JetStream
// says it is busy. On a three-node cluster a replicated stream is created through the cluster's
// meta leader, and several roles starting at once (the evidence service, three workers, two
// routers) queue their creations there, so one can outlast JetStream's API timeout; or the meta
// leader is still being elected. Both pass within seconds.
const clusterPatience = 60 * time.Second

// clusterRetryWait is the pause between attempts.
const clusterRetryWait = 500 * time.Millisecond

// errClusterUnavailable is JetStream's "JetStream system temporarily unavailable" (no meta
// leader yet); the client library names no constant for it.
const errClusterUnavailable natsjs.ErrorCode = 10008

// withClusterPatience runs create until it succeeds, fails for a reason other than a busy or
// leaderless cluster, ctx ends or clusterPatience has passed.
func withClusterPatience(ctx context.Context, log *slog.Logger, what string, create func(context.Context) error) error {
	deadline := time.Now().Add(clusterPatience)
	for attempt := 1; ; attempt++ {
		err := create(ctx)
		if err == nil || !transientCluster(err) || ctx.Err() != nil || time.Now().After(deadline) {
			if err != nil && attempt > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return err
		}
		log.Warn("jetstream busy; retrying", "creating", what, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(clusterRetryWait):
		}
	}
}

// transientCluster reports whether err is a timeout or an unavailable cluster, which a later
// attempt may not meet.
func transientCluster(err error) bool {
	var api *natsjs.APIError
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, natsjs.ErrNoStreamResponse) ||
		errors.As(err, &api) && api.ErrorCode == errClusterUnavailable
}
