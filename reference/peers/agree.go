package peers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// awaitAcknowledgements waits, after Join announced this router, until every other router listed
// enforces a share of at least as many routers as are listed: it has seen this one, applied its
// smaller share and written that count as its key's value. A router that is itself joining
// (value 0) serves nothing yet and is not waited on. A wait of fixed length would not do: a
// router may see the joiner up to a refresh and its timeout late, and apply its share later
// still. A router that never answers (it died and its key has yet to expire, or it is cut from
// NATS) is waited on until a TTL has passed, after which this router serves anyway: the warning
// and aruntime_router_join_unacknowledged_total say so.
func (m *Membership) awaitAcknowledgements(ctx context.Context) error {
	deadline := time.Now().Add(m.o.TTL)
	for {
		lagging, err := m.lagging(ctx)
		if err != nil {
			return err
		}
		if len(lagging) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			m.unacknowledged.Inc()
			m.o.Logger.Warn("joining the routers: serving although some have not acknowledged this router within a TTL",
				"key", m.key, "lagging", lagging)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(m.interval / 4):
		}
	}
}

// lagging lists the other routers whose key does not yet report at least as many routers as
// are listed now, with what each reports.
func (m *Membership) lagging(ctx context.Context) ([]string, error) {
	keys, err := m.list(ctx)
	if err != nil {
		return nil, err
	}
	var lagging []string
	for _, k := range keys {
		if k == m.key {
			continue
		}
		e, err := m.kv.Get(ctx, k)
		if errors.Is(err, natsjs.ErrKeyNotFound) {
			continue // gone since the listing: it left or expired
		}
		if err != nil {
			return nil, fmt.Errorf("peers: reading %s: %w", k, err)
		}
		if of, err := strconv.Atoi(string(e.Value())); err != nil || (of != 0 && of < len(keys)) {
			lagging = append(lagging, fmt.Sprintf("%s=%q", k, e.Value()))
		}
	}
	return lagging, nil
}

// holdGrowth returns the view to enforce after a successful refresh listing v. Back from an
// outage, a router may list only the routers that reconnected before it: the others' keys have
// expired, or were lost with the in-memory bucket, while those routers keep serving on their
// last share and announce themselves again only once they reconnect. Growing at once would let
// the runtime admit that router's part twice (80 here and 40 there of a declared 80), so for a
// TTL after the first successful refresh the router shrinks when it must but does not grow,
// keeping the share it had. The cost: a router that did leave during the outage has its part
// returned a TTL later.
func (m *Membership) holdGrowth(v View) View {
	cur := m.View()
	if !cur.Synced && m.holdUntil.IsZero() {
		m.holdUntil = time.Now().Add(m.o.TTL)
	}
	if v.Of >= cur.Of || !time.Now().Before(m.holdUntil) {
		return v
	}
	if !cur.Synced {
		m.o.Logger.Info("routers reachable again, fewer than before: keeping this router's share for a TTL while the others reconnect",
			"routers", cur.Of, "listed", v.Of, "peers", v.Peers)
	}
	cur.Synced = true
	return cur
}
