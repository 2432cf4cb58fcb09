package peers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/jetstream"
	"github.com/aruntime/arcert/reference/peers"
)

// ttl is the tests' key lifetime, the shortest Join accepts, so that expiry is quick to see.
const ttl = time.Second

// margin is what Eventually allows beyond a TTL and one refresh: generous for -race on 2 cores.
const margin = 3 * time.Second

// startNATS runs an embedded JetStream server for one test.
func startNATS(t *testing.T) *jetstream.Server {
	t.Helper()
	s, err := jetstream.Start("127.0.0.1:0", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// router is one router's admission controller and its membership, wired as the runtime wires
// them (reference/runtime/peers.go): every view sets the controller's share.
type router struct {
	adm *admission.Controller
	m   *peers.Membership
	nc  *nats.Conn
	// stop ends Run (the router leaves, deleting its key); done is closed when Run returned.
	stop context.CancelFunc
	done chan struct{}
}

// declared is the runtime's declared limits: 80 slots, queue bounds of 1000, and a tenant of 10
// requests a second (burst 10) whose concurrency no test reaches.
func declared() admission.Config {
	return admission.Config{
		Classes:  []admission.ClassSpec{{Name: "interactive", Priority: 1, QueueCapacity: 1000}},
		Tenants:  []admission.TenantSpec{{Name: "initech", RequestsPerMinute: 600, TokensPerMinute: 60_000_000, MaxConcurrency: 10_000}},
		Capacity: 80,
	}
}

// join starts router id on url with cfg's limits and runs its membership until the test ends or
// stop is called. Each router has its own connection, as each runs in its own process.
func join(t *testing.T, url, id string, cfg admission.Config) *router {
	t.Helper()
	return joinLagging(t, url, id, cfg, 0)
}

// joinLagging is join for a router that applies every change of its share lag late, after the
// first: a router whose refresh or whose controller is slow.
func joinLagging(t *testing.T, url, id string, cfg admission.Config, lag time.Duration) *router {
	t.Helper()
	adm, err := admission.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nc, js, err := jetstream.Connect(url, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := true
	m, err := peers.Join(ctx, peers.Options{JetStream: js, ID: id, TTL: ttl, OnChange: func(v peers.View) {
		if !first {
			time.Sleep(lag)
		}
		first = false
		if err := adm.SetShare(admission.Share{Index: v.Index, Of: v.Of}); err != nil {
			t.Error(err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	r := &router{adm: adm, m: m, nc: nc, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := m.Run(rctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { stop(); <-r.done })
	return r
}

// eventually polls cond until it holds or within has passed.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTwoRoutersSplitTheLimits: two routers on one NATS both see two routers, at different
// indices, and each enforces half of the 80 slots.
func TestTwoRoutersSplitTheLimits(t *testing.T) {
	url := startNATS(t).URL()
	a, b := join(t, url, "router-a", declared()), join(t, url, "router-b", declared())
	eventually(t, ttl+margin, "both routers see two", func() bool { return a.m.View().Of == 2 && b.m.View().Of == 2 })
	if ia, ib := a.m.View().Index, b.m.View().Index; ia == ib {
		t.Fatalf("both routers have index %d", ia)
	}
	for _, r := range []*router{a, b} {
		if got := r.adm.Snapshot().Capacity; got != 40 {
			t.Fatalf("router %s holds %d slots, want 40 of 80", r.m.Key(), got)
		}
	}
}

// TestConcurrencySumNeverExceedsDeclared: with a quota no load reaches, 400 concurrent requests
// through two routers hold at most 40 slots in each router and the declared 80 together, and
// more than one router's half, so both routers admit at once.
func TestConcurrencySumNeverExceedsDeclared(t *testing.T) {
	cfg := declared()
	cfg.Tenants[0].RequestsPerMinute = 6_000_000
	url := startNATS(t).URL()
	a, b := join(t, url, "router-a", cfg), join(t, url, "router-b", cfg)
	eventually(t, ttl+margin, "both routers see two", func() bool { return a.m.View().Of == 2 && b.m.View().Of == 2 })
	peak, each := load(t, []*router{a, b}, 400)
	if peak > 80 {
		t.Fatalf("%d slots held through both routers at once, declared 80", peak)
	}
	for i, p := range each {
		if p > 40 {
			t.Errorf("router %d held %d slots at once, its half is 40", i, p)
		}
	}
	if peak <= 40 {
		t.Fatalf("peak %d slots: both routers should have held theirs at once", peak)
	}
}

// load sends n concurrent requests round-robin through routers, each holding its slot a few
// milliseconds, and returns the most slots held at once in all and in each router.
func load(t *testing.T, routers []*router, n int) (int, []int) {
	t.Helper()
	var mu sync.Mutex
	inFlight, peak := 0, 0
	each, eachPeak := make([]int, len(routers)), make([]int, len(routers))
	var wg sync.WaitGroup
	for i := range n {
		ri := i % len(routers)
		r := routers[ri]
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tk, err := r.adm.Admit(ctx, admission.Request{Tenant: "initech", Class: "interactive"})
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			mu.Lock()
			inFlight++
			each[ri]++
			peak, eachPeak[ri] = max(peak, inFlight), max(eachPeak[ri], each[ri])
			mu.Unlock()
			time.Sleep(time.Duration(20+i%7) * time.Millisecond)
			mu.Lock()
			inFlight--
			each[ri]--
			mu.Unlock()
			tk.Release()
		})
	}
	wg.Wait()
	return peak, eachPeak
}

// TestQuotaSumWithinDeclared: a tenant of 10 requests a second (burst 10) hammering both routers
// for 1.5 s gets at most 10 × 1.5 + 10 = 25 admissions in all (one more allowed for timing); the
// same load on two routers that each enforce the whole quota (router.limits: local) gets more, so
// the bound can fail.
func TestQuotaSumWithinDeclared(t *testing.T) {
	url := startNATS(t).URL()
	a, b := join(t, url, "router-a", declared()), join(t, url, "router-b", declared())
	eventually(t, ttl+margin, "both routers see two", func() bool { return a.m.View().Of == 2 && b.m.View().Of == 2 })
	// The controllers refill on the wall clock (admission exposes no clock to this package), and
	// hammer's last request may start just before the window closes and be admitted a little
	// after: the bound allows one request more than 10 × 1.5 + 10 for that. Local limits admit
	// about twice the declared rate, far above it, so the margin does not blunt the test.
	const window, bound = 1500 * time.Millisecond, 25 + 1
	if got := hammer(a.adm, b.adm, window); got > bound || got < 15 {
		t.Fatalf("%d requests admitted through two routers in %v: want at most %d (10/s + burst 10, + 1 for the wall clock) and at least 15", got, window, bound)
	}
	la, err := admission.New(declared())
	if err != nil {
		t.Fatal(err)
	}
	lb, err := admission.New(declared())
	if err != nil {
		t.Fatal(err)
	}
	if got := hammer(la, lb, window); got <= bound {
		t.Fatalf("two routers with local limits admitted only %d in %v: the bound %d cannot tell them apart", got, window, bound)
	}
}

// hammer asks both controllers for the tenant's requests, alternating, every millisecond for
// window, and returns how many were admitted.
func hammer(a, b *admission.Controller, window time.Duration) int {
	admitted := 0
	end := time.Now().Add(window)
	for i := 0; time.Now().Before(end); i++ {
		c := []*admission.Controller{a, b}[i%2]
		if tk, err := c.Admit(context.Background(), admission.Request{Tenant: "initech", Class: "interactive"}); err == nil {
			admitted++
			tk.Release()
		}
		time.Sleep(time.Millisecond)
	}
	return admitted
}

// TestSurvivorTakesBackTheShare: a router that leaves cleanly deletes its key, and one that dies
// stops refreshing it; either way the other returns to the whole limit within TTL and a refresh.
func TestSurvivorTakesBackTheShare(t *testing.T) {
	url := startNATS(t).URL()
	a, b := join(t, url, "router-a", declared()), join(t, url, "router-b", declared())
	eventually(t, ttl+margin, "both routers see two", func() bool { return a.m.View().Of == 2 && b.m.View().Of == 2 })
	b.stop() // clean stop: b deletes its key
	<-b.done
	eventually(t, ttl+margin, "router-a back to all 80 slots after router-b left", func() bool {
		return a.m.View().Of == 1 && a.adm.Snapshot().Capacity == 80
	})

	// A dying router: its membership stops refreshing without deleting its key (the process is
	// gone). Simulated by closing its connection under Run.
	c := join(t, url, "router-c", declared())
	eventually(t, ttl+margin, "router-a sees router-c", func() bool { return a.m.View().Of == 2 })
	if got := a.adm.Snapshot().Capacity; got != 40 {
		t.Fatalf("router-a holds %d slots beside router-c, want 40", got)
	}
	c.nc.Close()
	eventually(t, ttl+margin, "router-a back to all 80 slots after router-c died", func() bool {
		return a.m.View().Of == 1 && a.adm.Snapshot().Capacity == 80
	})
}

// TestNATSLostKeepsTheShare: when NATS stops, both routers keep their half (the view marked not
// synced) for longer than the TTL instead of growing to the whole limit.
func TestNATSLostKeepsTheShare(t *testing.T) {
	s := startNATS(t)
	a, b := join(t, s.URL(), "router-a", declared()), join(t, s.URL(), "router-b", declared())
	eventually(t, ttl+margin, "both routers see two", func() bool { return a.m.View().Of == 2 && b.m.View().Of == 2 })
	s.Shutdown()
	eventually(t, ttl+margin, "both routers notice NATS is gone", func() bool { return !a.m.View().Synced && !b.m.View().Synced })
	// Well past the TTL, during which a key would have expired had NATS still been there.
	for end := time.Now().Add(2 * ttl); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for _, r := range []*router{a, b} {
			if v, c := r.m.View(), r.adm.Snapshot().Capacity; v.Of != 2 || c != 40 {
				t.Fatalf("router %s without NATS: view %+v, %d slots; want its last share, 40 of 80", r.m.Key(), v, c)
			}
		}
	}
}

// TestJoinRejectsBadOptions: an id that cannot be a key, or a TTL too short to refresh, is an
// error naming it.
func TestJoinRejectsBadOptions(t *testing.T) {
	url := startNATS(t).URL()
	nc, js, err := jetstream.Connect(url, "bad")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, o := range []peers.Options{
		{JetStream: js, ID: "a.b", OnChange: func(peers.View) {}},
		{JetStream: js, ID: "", OnChange: func(peers.View) {}},
		{JetStream: js, ID: "ok", TTL: 100 * time.Millisecond, OnChange: func(peers.View) {}},
		{JetStream: js, ID: "ok"},
	} {
		if _, err := peers.Join(context.Background(), o); err == nil {
			t.Errorf("Join(id %q, ttl %v) accepted", o.ID, o.TTL)
		}
	}
}

// restartableNATS runs an embedded JetStream server whose restart listens on the same address
// and store directory, as a NATS node that restarts in place.
type restartableNATS struct {
	t    *testing.T
	addr string
	dir  string
	s    *jetstream.Server
}

func startRestartableNATS(t *testing.T) *restartableNATS {
	t.Helper()
	n := &restartableNATS{t: t, addr: "127.0.0.1:0", dir: t.TempDir()}
	n.start()
	n.addr = strings.TrimPrefix(n.s.URL(), "nats://")
	t.Cleanup(func() { n.s.Shutdown() })
	return n
}

func (n *restartableNATS) start() {
	n.t.Helper()
	s, err := jetstream.Start(n.addr, n.dir, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	n.s = s
}

// restart stops the server, losing the memory-stored presence bucket, and starts it again.
func (n *restartableNATS) restart() {
	n.t.Helper()
	n.s.Shutdown()
	n.start()
}

// TestNATSRestartResyncs: when every NATS node restarts, the in-memory presence bucket is gone;
// the routers recreate it and see each other again, rather than staying unsynced on their last
// share forever, invisible to any router started later.
func TestNATSRestartResyncs(t *testing.T) {
	n := startRestartableNATS(t)
	a, b := join(t, n.s.URL(), "router-a", declared()), join(t, n.s.URL(), "router-b", declared())
	eventually(t, ttl+margin, "both routers see two", func() bool { return a.m.View().Of == 2 && b.m.View().Of == 2 })
	n.restart()
	bucketHolds(t, n.s.URL(), 2)
	eventually(t, ttl+margin, "both routers synced again, seeing two", func() bool {
		va, vb := a.m.View(), b.m.View()
		return va.Synced && vb.Synced && va.Of == 2 && vb.Of == 2
	})
}

// TestNoGrowthRightAfterAnOutage: a router back from a NATS outage may find the other routers'
// keys gone (expired, or lost with the in-memory bucket) although they still serve and will
// announce themselves again once they reconnect. It keeps its share for a TTL after it is back
// instead of taking the whole limit at its first refresh; then, the other still absent, it grows.
func TestNoGrowthRightAfterAnOutage(t *testing.T) {
	n := startRestartableNATS(t)
	a, b := join(t, n.s.URL(), "router-a", declared()), join(t, n.s.URL(), "router-b", declared())
	eventually(t, ttl+margin, "both routers see two", func() bool { return a.m.View().Of == 2 && b.m.View().Of == 2 })
	b.nc.Close() // router-b is still cut off when router-a is back
	n.restart()
	bucketHolds(t, n.s.URL(), 1)
	eventually(t, ttl+margin, "router-a synced again", func() bool { return a.m.View().Synced })
	back := time.Now()
	for time.Since(back) < ttl*8/10 {
		if c := a.adm.Snapshot().Capacity; c != 40 {
			t.Fatalf("router-a holds %d slots %v after it is back from the outage, want its last share, 40 of 80, for a TTL", c, time.Since(back))
		}
		time.Sleep(5 * time.Millisecond)
	}
	eventually(t, ttl+margin, "router-a grows to all 80 slots once router-b stayed absent a TTL", func() bool {
		return a.m.View().Of == 1 && a.adm.Snapshot().Capacity == 80
	})
}

// bucketHolds waits until the presence bucket exists on url and holds n keys: after a restart
// of NATS, what a router started then would find.
func bucketHolds(t *testing.T, url string, n int) {
	t.Helper()
	nc, js, err := jetstream.Connect(url, "observer")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	eventually(t, 2*ttl+margin, fmt.Sprintf("the presence bucket back, holding %d keys", n), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		kv, err := js.KeyValue(ctx, peers.Bucket)
		if err != nil {
			return false
		}
		keys, err := kv.Keys(ctx)
		return err == nil && len(keys) == n
	})
}

// TestJoinerWaitsForTheOthers: a router that joins serves only once every router already there
// enforces the smaller share, however late it applies it; a wait of fixed length would let the
// joiner take its half next to a router still holding all of the limit.
func TestJoinerWaitsForTheOthers(t *testing.T) {
	url := startNATS(t).URL()
	a := joinLagging(t, url, "router-a", declared(), 2*ttl/5) // two refreshes late
	if c := a.adm.Snapshot().Capacity; c != 80 {
		t.Fatalf("router-a alone holds %d slots, want 80", c)
	}
	b := join(t, url, "router-b", declared())
	if ca, cb := a.adm.Snapshot().Capacity, b.adm.Snapshot().Capacity; ca+cb > 80 {
		t.Fatalf("router-b serves with %d slots while router-a still holds %d: %d of a declared 80", cb, ca, ca+cb)
	}
}

// TestFailedJoinLeavesNoKey: a Join that fails after announcing the router (here its gauges
// cannot be registered) deletes its key, so that the router, or the retry of its start under a
// new suffix, is not counted twice until the key expires.
func TestFailedJoinLeavesNoKey(t *testing.T) {
	url := startNATS(t).URL()
	nc, js, err := jetstream.Connect(url, "router-a")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "aruntime_router_peers_synced", Help: "taken"}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := peers.Join(ctx, peers.Options{JetStream: js, ID: "router-a", TTL: ttl, Registerer: reg, OnChange: func(peers.View) {}}); err == nil {
		t.Fatal("Join succeeded although its gauge could not be registered")
	}
	kv, err := js.KeyValue(ctx, peers.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := kv.Keys(ctx); !errors.Is(err, natsjs.ErrNoKeysFound) {
		t.Fatalf("after the failed Join the bucket holds %v (err %v), want no key", keys, err)
	}
}
