package admission

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// globex is the second tenant of the fairness tests.
const globex = "globex"

// fairConfig has one slot, an interactive queue of fairBound places and two tenants, acme with
// weight acmeWeight and globex with the default weight.
func fairConfig(acmeWeight int) Config {
	cfg := testConfig()
	cfg.Classes = []ClassSpec{{Name: interactive, Priority: 10, QueueCapacity: fairBound}}
	cfg.Tenants = append(cfg.Tenants, cfg.Tenants[0])
	cfg.Tenants[0].Weight = acmeWeight
	cfg.Tenants[1].Name = globex
	return cfg
}

// fairBound is the interactive queue bound in fairConfig.
const fairBound = 4

// of is an interactive request of tenant.
func of(tenant string) Request { return Request{Tenant: tenant, Class: interactive, Tokens: 1} }

// waiting is one queued Admit and its tenant.
type waiting struct {
	tenant string
	ch     <-chan result
}

// grantOrder releases held and then each granted ticket in turn, and returns the tenants in the
// order their waiters were granted.
func grantOrder(t *testing.T, held *Ticket, ws []waiting) []string {
	t.Helper()
	var order []string
	left := slices.Clone(ws)
	held.Release()
	for len(left) > 0 {
		i := slices.IndexFunc(left, func(w waiting) bool { return len(w.ch) > 0 })
		if i < 0 {
			// Exactly one waiter holds the slot after each release; wait for the earliest.
			i = 0
			for len(left[i].ch) == 0 {
				i = (i + 1) % len(left)
			}
		}
		tk := granted(t, left[i].ch)
		order = append(order, left[i].tenant)
		left = slices.Delete(left, i, i+1)
		tk.Release()
	}
	return order
}

func TestFairQueueInterleavesTenants(t *testing.T) {
	h := newHarness(t, fairConfig(0))
	held := h.admit(t, of(acme))
	var ws []waiting
	for _, name := range []string{acme, acme, acme, globex} {
		ws = append(ws, waiting{name, h.queue(t, context.Background(), of(name))})
	}
	// globex arrived last, behind three of acme's, but starts at the class's virtual time: it is
	// served right after acme's first, not after all three.
	want := []string{acme, globex, acme, acme}
	if got := grantOrder(t, held, ws); !slices.Equal(got, want) {
		t.Errorf("grant order = %v, want %v", got, want)
	}
}

func TestFairQueueFollowsWeights(t *testing.T) {
	cfg := fairConfig(2)
	cfg.Classes[0].QueueCapacity = 12 // shares of 8 and 4 places while both wait
	h := newHarness(t, cfg)
	held := h.admit(t, of(acme))
	var ws []waiting
	for _, name := range []string{acme, acme, acme, acme, globex, globex, globex, globex} {
		ws = append(ws, waiting{name, h.queue(t, context.Background(), of(name))})
	}
	// acme, at weight 2, gets two slots for each of globex's while both wait.
	want := []string{acme, globex, acme, acme, globex, acme, globex, globex}
	if got := grantOrder(t, held, ws); !slices.Equal(got, want) {
		t.Errorf("grant order = %v, want %v", got, want)
	}
}

func TestFloodingTenantIsShedNotTheQuietOne(t *testing.T) {
	h := newHarness(t, fairConfig(0))
	held := h.admit(t, of(acme))
	var acmes []<-chan result
	for range fairBound {
		acmes = append(acmes, h.queue(t, context.Background(), of(acme)))
	}
	// Alone, acme may use the whole bound, and no more.
	if _, err := h.c.Admit(bounded(t), of(acme)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("acme beyond the whole bound: %v, want ErrQueueFull", err)
	}
	// globex, within its half, takes the place of acme's newest waiter.
	g1 := h.queue(t, context.Background(), of(globex))
	if res := await(t, acmes[fairBound-1]); !errors.Is(res.err, ErrQueueFull) {
		t.Errorf("acme's newest waiter got %+v, want ErrQueueFull", res)
	}
	// acme, now over its half while globex waits, is shed on arrival.
	if _, err := h.c.Admit(bounded(t), of(acme)); !errors.Is(err, ErrQueueFull) {
		t.Errorf("acme over its share: %v, want ErrQueueFull", err)
	}
	g2 := h.queue(t, context.Background(), of(globex))
	if res := await(t, acmes[fairBound-2]); !errors.Is(res.err, ErrQueueFull) {
		t.Errorf("acme's next newest waiter got %+v, want ErrQueueFull", res)
	}
	// globex now holds its share, half the bound, and is the one shed.
	if _, err := h.c.Admit(bounded(t), of(globex)); !errors.Is(err, ErrQueueFull) {
		t.Errorf("globex over its share: %v, want ErrQueueFull", err)
	}
	if s := h.c.Snapshot(); s.Queued[interactive] != fairBound {
		t.Errorf("queued = %d, want the bound %d", s.Queued[interactive], fairBound)
	}
	want := []string{acme, globex, acme, globex}
	got := grantOrder(t, held, []waiting{{acme, acmes[0]}, {acme, acmes[1]}, {globex, g1}, {globex, g2}})
	if !slices.Equal(got, want) {
		t.Errorf("grant order = %v, want %v", got, want)
	}
	if q, _ := h.c.Quota(acme); q.Queued != 0 || q.InFlight != 0 {
		t.Errorf("acme after all = %+v, want nothing held", q)
	}
}

func TestWeightedShareOfTheBound(t *testing.T) {
	cfg := fairConfig(3) // acme's share with globex waiting: 3 of 4 places
	h := newHarness(t, cfg)
	h.admit(t, of(acme))
	h.queue(t, context.Background(), of(globex))
	for range 3 {
		h.queue(t, context.Background(), of(acme))
	}
	if _, err := h.c.Admit(bounded(t), of(acme)); !errors.Is(err, ErrQueueFull) {
		t.Errorf("acme beyond its weighted share: %v, want ErrQueueFull", err)
	}
	if _, err := h.c.Admit(bounded(t), of(globex)); !errors.Is(err, ErrQueueFull) {
		t.Errorf("globex beyond its weighted share: %v, want ErrQueueFull", err)
	}
}

func TestSharedFIFOLetsOneTenantFillTheQueue(t *testing.T) {
	cfg := fairConfig(0)
	cfg.SharedFIFO = true
	h := newHarness(t, cfg)
	h.admit(t, of(acme))
	for range fairBound {
		h.queue(t, context.Background(), of(acme))
	}
	if _, err := h.c.Admit(bounded(t), of(globex)); !errors.Is(err, ErrQueueFull) {
		t.Errorf("globex behind a full shared FIFO: %v, want ErrQueueFull", err)
	}
}

func TestNegativeWeightIsInvalid(t *testing.T) {
	cfg := fairConfig(-1)
	if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with weight -1: %v, want ErrInvalidConfig", err)
	}
}
