package jetstream

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// leaderReadAttempts bounds how often OpenKeyValue turns direct gets off while other processes
// opening the same bucket at the same moment turn them back on.
const leaderReadAttempts = 10

// OpenKeyValue creates the bucket cfg declares, or brings an existing one to it, and returns a
// handle whose reads see every write acknowledged before them. The client library creates every
// bucket with direct gets allowed, and on more than one replica a direct get may be answered by
// a follower that has not applied the latest write yet: a batch read back right after it was
// submitted would be missing. So on a replicated bucket direct gets are turned off and the handle
// is bound to a stream that has them off: its reads go to the stream leader, which has applied
// every write it acknowledged. Another process opening the bucket (CreateOrUpdateKeyValue turns
// them back on) does not change a handle already bound; the loop covers one bound meanwhile.
func OpenKeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil || cfg.Replicas <= 1 {
		return kv, err
	}
	name := "KV_" + cfg.Bucket
	for range leaderReadAttempts {
		off, err := directOff(ctx, js, name)
		if err != nil {
			return nil, err
		}
		if !off {
			continue
		}
		if kv, err = js.KeyValue(ctx, cfg.Bucket); err != nil {
			return nil, err
		}
		// Still off after binding: the handle was bound to the stream with direct gets off.
		if st, err := js.Stream(ctx, name); err != nil {
			return nil, err
		} else if !st.CachedInfo().Config.AllowDirect {
			return kv, nil
		}
	}
	return nil, fmt.Errorf("jetstream: bucket %s: direct gets turned back on %d times while opening it", cfg.Bucket, leaderReadAttempts)
}

// directOff reports whether stream name has direct gets off, turning them off when it has not
// (and then reporting false, so the caller looks again).
func directOff(ctx context.Context, js jetstream.JetStream, name string) (bool, error) {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return false, fmt.Errorf("jetstream: stream %s: %w", name, err)
	}
	sc := st.CachedInfo().Config
	if !sc.AllowDirect {
		return true, nil
	}
	sc.AllowDirect = false
	if _, err := js.UpdateStream(ctx, sc); err != nil {
		return false, fmt.Errorf("jetstream: turning direct gets off on %s: %w", name, err)
	}
	return false, nil
}
