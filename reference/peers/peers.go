// Package peers tells each router how many routers of its runtime are alive, so that together they
// enforce the limits declared for the whole runtime (router.limits: split) instead of each
// enforcing all of them.
//
// Every router announces itself in a JetStream key-value bucket whose keys expire TTL after their
// last write (the bucket's MaxAge), and rewrites its key every TTL/5. Every refresh also lists the
// bucket's keys: the routers alive, in key order, give this router its index and the number of
// routers, its Share. A router that stops cleanly deletes its key; one that dies stops rewriting
// it, and it expires: within TTL plus one refresh the survivors take its part back.
//
// A key is the router's id and a random suffix chosen at each start, so two routers given the same
// id still count as two, and a restarted router is counted twice until its old key expires: both
// errors make the shares smaller, never larger. Each key's value is the number of routers whose
// share that router enforces: a router that joins serves only once every router listed reports at
// least the new number (or a TTL has passed, counted in aruntime_router_join_unacknowledged_total),
// so the others have shrunk before it admits anything. While two routers' views differ (at most one
// refresh, when a router joins or leaves), their indices may too, and a remainder unit of a limit
// that does not divide evenly may count in both.
//
// When NATS cannot be reached, a router keeps the share it last saw (Synced false) rather than
// falling back to the whole limit. The whole limit would be the available choice, but every router
// cut off at once would then admit N times the declared limit, which is what splitting exists to
// prevent; keeping the last share admits at most what the routers admitted together before the
// outage. Back from an outage, a router does not grow for a TTL, so that routers that reconnect
// later, their keys expired meanwhile, are listed again before it takes their part. The bucket is
// kept in memory: once every NATS node has restarted it is gone, and the first router to find it
// missing after a failed refresh recreates it. The cost is documented: a router cut from NATS while
// still serving keeps its part while the others, no longer seeing its key, take it back, so for
// that while the runtime may admit up to the declared limit plus that router's part.
package peers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/jetstream"
)

// Bucket is the key-value bucket of live routers.
const Bucket = "aruntime_routers"

// DefaultTTL is how long a router that stopped writing still counts: long enough that a slow
// refresh or a JetStream leader election of a second or two does not drop a live router (which
// would grow the others' shares), short enough that a dead router's part returns within seconds.
const DefaultTTL = 5 * time.Second

// refreshesPerTTL is how many times a router rewrites its key within one TTL.
const refreshesPerTTL = 5

// ErrOptions marks options that cannot work.
var ErrOptions = errors.New("peers: invalid options")

// View is what this router last learned: its index among the routers alive, how many there are,
// their keys in order, and whether that came from the last refresh (Synced) or is kept from an
// earlier one because NATS could not be reached.
type View struct {
	Index, Of int
	Peers     []string
	Synced    bool
}

// Options configure a Membership.
type Options struct {
	JetStream natsjs.JetStream
	// ID names this router among its peers, for people: router.id or the host name.
	ID string
	// Replicas is the bucket's replica count (durable.replicas).
	Replicas int
	// TTL is DefaultTTL when zero; at least one second.
	TTL time.Duration
	// OnChange is called with every view whose index or number of routers differs from the
	// last, from one goroutine at a time (Join's, then Run's).
	OnChange func(View)
	// Registerer receives aruntime_router_peers and aruntime_router_peers_synced; nil registers
	// nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Membership is one router's presence among its peers.
type Membership struct {
	o        Options
	kv       natsjs.KeyValue
	key      string
	interval time.Duration

	mu   sync.Mutex
	view View
	// holdUntil, set when a refresh succeeds after a failed one, is until when the router does
	// not grow its share: see Run. Only Run's goroutine uses it.
	holdUntil time.Time

	peers, synced  prometheus.Gauge
	unacknowledged prometheus.Counter
}

// Join announces this router, waits until every live router has acknowledged it (see
// awaitAcknowledgements) so that none still enforces a larger share when this one admits, and returns with its first view, which OnChange has
// already received. It fails if the bucket cannot be opened or NATS does not answer: a router
// that cannot learn its share must not start with the whole limit.
func Join(ctx context.Context, o Options) (*Membership, error) {
	if o.JetStream == nil || o.OnChange == nil {
		return nil, fmt.Errorf("%w: JetStream and OnChange are required", ErrOptions)
	}
	if !config.RouterIDPattern.MatchString(o.ID) {
		return nil, fmt.Errorf("%w: router id %q: want 1 to 100 letters, digits, '_' or '-'", ErrOptions, o.ID)
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.TTL < time.Second {
		return nil, fmt.Errorf("%w: TTL %v is below 1s", ErrOptions, o.TTL)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix) // never fails (crypto/rand)
	m := &Membership{o: o, key: o.ID + "." + hex.EncodeToString(suffix), interval: o.TTL / refreshesPerTTL,
		peers:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "aruntime_router_peers", Help: "Routers alive as this router last saw them; it enforces 1/N of each declared limit (router.limits: split)."}),
		synced: prometheus.NewGauge(prometheus.GaugeOpts{Name: "aruntime_router_peers_synced", Help: "1 when the last presence refresh reached NATS, 0 while the router keeps its last share."}),
		unacknowledged: prometheus.NewCounter(prometheus.CounterOpts{Name: "aruntime_router_join_unacknowledged_total",
			Help: "Joins after which this router served although some router had not acknowledged it within a TTL: the limits' sum may have been exceeded meanwhile."})}
	if err := m.open(ctx); err != nil {
		return nil, err
	}
	// Past the first write, every failure deletes the key: a caller that retries Join writes
	// another (a new suffix), and the one left behind would count until it expired.
	joined := false
	defer func() {
		if !joined {
			m.leave()
		}
	}()
	if err := m.announce(ctx); err != nil {
		return nil, err
	}
	if err := m.awaitAcknowledgements(ctx); err != nil {
		return nil, err
	}
	v, err := m.refresh(ctx)
	if err != nil {
		return nil, err
	}
	m.publish(v, true)
	if err := m.announce(ctx); err != nil {
		return nil, err
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(m.peers); err != nil {
			return nil, err
		}
		if err := o.Registerer.Register(m.synced); err != nil {
			return nil, err
		}
		if err := o.Registerer.Register(m.unacknowledged); err != nil {
			return nil, err
		}
	}
	joined = true
	return m, nil
}

// Key is this router's key in Bucket.
func (m *Membership) Key() string { return m.key }

// View is the view in force.
func (m *Membership) View() View {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.view
	v.Peers = slices.Clone(v.Peers)
	return v
}

// Run refreshes the view every TTL/5 until ctx ends, then deletes this router's key so the
// others take its part back at their next refresh. Call it once the router no longer admits
// anything (after its drain), or the others would grow while its work still runs.
func (m *Membership) Run(ctx context.Context) error {
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			m.leave()
			return nil
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, m.interval)
		v, err := m.refresh(rctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				m.leave()
				return nil
			}
			m.holdUntil = time.Time{}
			m.keep(err)
			rctx, cancel := context.WithTimeout(ctx, m.interval)
			m.reopenIfGone(rctx)
			cancel()
			continue
		}
		if m.publish(m.holdGrowth(v), false) {
			// Acknowledge the new share at once: a joining router waits on it.
			rctx, cancel := context.WithTimeout(ctx, m.interval)
			if err := m.announce(rctx); err != nil && ctx.Err() == nil {
				m.o.Logger.Warn("acknowledging this router's new share", "err", err)
			}
			cancel()
		}
	}
}

// Leave deletes this router's key, for a caller that joined but will not Run (its start failed
// after Join): the others take its part back at their next refresh instead of after the TTL.
func (m *Membership) Leave() { m.leave() }

// leave deletes this router's key, on a context of its own since the caller's has ended.
func (m *Membership) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), m.interval)
	defer cancel()
	if err := m.kv.Delete(ctx, m.key); err != nil {
		// Not fatal: the key expires within the TTL anyway.
		m.o.Logger.Warn("leaving the routers: key left to expire", "key", m.key, "err", err)
	}
}

// open creates the bucket, or binds to it when it exists.
func (m *Membership) open(ctx context.Context) error {
	kv, err := jetstream.OpenKeyValue(ctx, m.o.JetStream, natsjs.KeyValueConfig{Bucket: Bucket, TTL: m.o.TTL,
		Storage: natsjs.MemoryStorage, Replicas: max(1, m.o.Replicas), History: 1,
		Description: "routers alive: each rewrites its key every TTL/5 and splits the declared limits among them"})
	if err != nil {
		return fmt.Errorf("peers: bucket %s: %w", Bucket, err)
	}
	m.kv = kv
	return nil
}

// reopenIfGone recreates the bucket when NATS answers that it does not exist. The bucket is kept
// in memory, so it is gone once every NATS node has restarted, and nothing but a router recreates
// it: without this every router would stay unsynced on its last share for good, and a router
// started later would find an empty bucket. It is asked after a failed refresh, on a context of
// its own, since a write to a missing stream fails only when the refresh's context ends (the
// client retries the write while no stream answers).
func (m *Membership) reopenIfGone(ctx context.Context) {
	_, err := m.o.JetStream.KeyValue(ctx, Bucket)
	if !errors.Is(err, natsjs.ErrBucketNotFound) && !errors.Is(err, natsjs.ErrStreamNotFound) {
		return
	}
	m.o.Logger.Warn("routers' presence bucket gone (every NATS node restarted?): recreating it", "bucket", Bucket)
	if err := m.open(ctx); err != nil {
		m.o.Logger.Warn("recreating the routers' presence bucket", "err", err)
	}
}

// refresh rewrites this router's key and lists the routers alive.
func (m *Membership) refresh(ctx context.Context) (View, error) {
	if err := m.announce(ctx); err != nil {
		return View{}, err
	}
	keys, err := m.list(ctx)
	if err != nil {
		return View{}, err
	}
	i := slices.Index(keys, m.key)
	if i < 0 {
		// Our own write is not listed: the bucket lost it between the two calls (a leader change).
		return View{}, fmt.Errorf("peers: %s is missing from the routers just after announcing it (listed %s)", m.key, strings.Join(keys, ", "))
	}
	return View{Index: i, Of: len(keys), Peers: keys, Synced: true}, nil
}

// announce writes this router's key, its value the number of routers whose share it enforces
// (0 before Join has its first view): what a joining router waits on.
func (m *Membership) announce(ctx context.Context) error {
	if _, err := m.kv.Put(ctx, m.key, []byte(strconv.Itoa(m.View().Of))); err != nil {
		return fmt.Errorf("peers: announcing %s: %w", m.key, err)
	}
	return nil
}

// list returns the bucket's keys, in order.
func (m *Membership) list(ctx context.Context) ([]string, error) {
	lister, err := m.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("peers: listing %s: %w", Bucket, err)
	}
	defer func() { _ = lister.Stop() }()
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("peers: listing %s: %w", Bucket, err)
	}
	slices.Sort(keys)
	return keys, nil
}

// publish makes v the view in force and tells OnChange when the share changed (always, first),
// reporting whether it did.
func (m *Membership) publish(v View, first bool) bool {
	m.mu.Lock()
	old := m.view
	m.view = v
	m.mu.Unlock()
	m.peers.Set(float64(v.Of))
	m.synced.Set(1)
	if first || old.Index != v.Index || old.Of != v.Of {
		if !first || v.Of > 1 {
			m.o.Logger.Info("routers changed: enforcing this router's part of the declared limits", "index", v.Index, "routers", v.Of, "peers", v.Peers)
		}
		m.o.OnChange(v)
		return true
	}
	if !old.Synced {
		m.o.Logger.Info("routers reachable again", "routers", v.Of)
	}
	return false
}

// keep marks the view in force as stale: NATS did not answer, so the share stays what it was.
func (m *Membership) keep(err error) {
	m.mu.Lock()
	v := m.view
	m.view.Synced = false
	m.mu.Unlock()
	m.synced.Set(0)
	if v.Synced {
		m.o.Logger.Warn("routers unreachable: keeping this router's last share", "index", v.Index, "routers", v.Of, "err", err)
	}
}
