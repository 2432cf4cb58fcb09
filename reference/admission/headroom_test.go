package admission

import (
	"testing"
	"time"
)

// headroomConfig has eight slots and the two tenants of fairConfig with equal weights, so each
// has a share of four slots while both are active, and two (a quarter) are held back at most.
func headroomConfig() Config {
	cfg := fairConfig(1)
	cfg.Capacity = 8
	cfg.Classes[0].QueueCapacity = 16
	return cfg
}

// fill admits n requests of tenant at once and returns their tickets.
func (h *harness) fill(t *testing.T, tenant string, n int) []*Ticket {
	t.Helper()
	tickets := make([]*Ticket, n)
	for i := range tickets {
		tickets[i] = h.admit(t, of(tenant))
	}
	return tickets
}

func TestHeadroomKeepsSlotsFreeForAQuietTenant(t *testing.T) {
	h := newHarness(t, headroomConfig())
	ctx := bounded(t)
	// acme alone may use every slot: headroom costs nothing without another tenant.
	flood := h.fill(t, acme, 8)
	// globex arrives to a full runtime: it queues, and the fair queue gives it the next slot
	// although acme queued first.
	acmeWaiting := h.queue(t, ctx, of(acme))
	quiet := h.queue(t, ctx, of(globex))
	flood[0].Release()
	g := granted(t, quiet)
	// Now both are active and each has a share of 4. acme (7) is over it; globex (1) lacks 3, of
	// which 2 (a quarter of 8) are held back: acme's waiter stays queued through two releases.
	flood[1].Release()
	flood[2].Release()
	if got := h.c.Snapshot(); got.InFlight != 6 || got.Queued[interactive] != 1 {
		t.Fatalf("after two acme releases: %+v, want 6 in flight and acme's waiter still queued", got)
	}
	// globex's next requests take held slots at once, without queueing.
	g2 := h.admit(t, of(globex))
	// globex (2) still lacks 2 of its share, so acme's waiter gets a slot only when 3 are free.
	flood[3].Release()
	if got := h.c.Snapshot(); got.Queued[interactive] != 1 {
		t.Fatalf("with 2 slots free: %+v, want acme's waiter still queued", got)
	}
	flood[4].Release()
	granted(t, acmeWaiting)
	if got := h.c.Snapshot(); got.InFlight != 6 {
		t.Fatalf("in flight %d, want 6: two slots held back for globex", got.InFlight)
	}
	g.Release()
	g2.Release()
}

func TestHeadroomLapsesWhenTheQuietTenantLeaves(t *testing.T) {
	h := newHarness(t, headroomConfig())
	ctx := bounded(t)
	h.fill(t, acme, 6)
	g := h.admit(t, of(globex))
	g.Release() // globex holds nothing now, but asked a moment ago: it is still active
	w := h.queue(t, ctx, of(acme))
	if got := h.c.Snapshot(); got.InFlight != 6 {
		t.Fatalf("in flight %d, want 6 while globex is active", got.InFlight)
	}
	// Once globex has been silent for the active window, acme may take every slot: the next
	// arrival dispatches acme's waiter first and then takes the last slot itself.
	h.clock.advance(DefaultActiveWindow)
	late := h.admit(t, of(acme))
	granted(t, w)
	if got := h.c.Snapshot(); got.InFlight != 8 || got.Queued[interactive] != 0 {
		t.Fatalf("after globex left: %+v, want all 8 slots taken by acme", got)
	}
	late.Release()
}

func TestHeadroomIsBoundedToAQuarterOfTheCapacity(t *testing.T) {
	cfg := headroomConfig()
	cfg.Tenants = append(cfg.Tenants, cfg.Tenants[1], cfg.Tenants[1], cfg.Tenants[1], cfg.Tenants[1])
	for i, name := range []string{"t2", "t3", "t4", "t5"} {
		cfg.Tenants[2+i].Name = name
	}
	h := newHarness(t, cfg)
	for _, name := range []string{globex, "t2", "t3", "t4", "t5"} {
		h.admit(t, of(name)).Release() // five quiet tenants, each active and below its share
	}
	// acme's share is 8/6; five tenants lacking theirs would hold ten slots, but the headroom is
	// at most 8/4 = 2, so acme gets 6.
	h.fill(t, acme, 6)
	h.queue(t, bounded(t), of(acme))
	if got := h.c.Snapshot(); got.InFlight != 6 {
		t.Fatalf("in flight %d, want 6 with two slots held back", got.InFlight)
	}
}

func TestSharedFIFOHasNoHeadroom(t *testing.T) {
	cfg := headroomConfig()
	cfg.SharedFIFO = true
	h := newHarness(t, cfg)
	h.admit(t, of(globex)).Release()
	h.fill(t, acme, 8) // the defect lets the flood take the slot a fair runtime holds back
	h.clock.advance(time.Millisecond)
	h.queue(t, bounded(t), of(globex))
}

// TestHeldSlotsAreHandedOutWhenTheWindowLapses: slots held for a tenant that only asked
// recently go to the flood's waiter once that tenant's window ends, though nothing else happens
// then (no release, no arrival). Real time, with a short window.
func TestHeldSlotsAreHandedOutWhenTheWindowLapses(t *testing.T) {
	const window = 300 * time.Millisecond
	cfg := headroomConfig()
	cfg.ActiveWindow = window
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Drain)
	ctx := bounded(t)
	for range 6 {
		if _, err := c.Admit(ctx, of(acme)); err != nil {
			t.Fatal(err)
		}
	}
	lapses := time.Now().Add(window) // globex's window ends no earlier: it asks after this
	g, err := c.Admit(ctx, of(globex))
	if err != nil {
		t.Fatal(err)
	}
	g.Release() // globex stays active for the window, and two slots are held for it
	waiting := make(chan error, 1)
	go func() {
		_, err := c.Admit(ctx, of(acme))
		waiting <- err
	}()
	// The waiter must be held back first, or the test would not be about the lapse.
	for c.Snapshot().Queued[interactive] != 1 {
		if time.Now().After(lapses) {
			t.Fatalf("acme's request was not queued within the %s window: %+v", window, c.Snapshot())
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-waiting:
		if err != nil {
			t.Fatal(err)
		}
		if early := time.Until(lapses); early > 0 {
			t.Fatalf("acme's waiter took a held slot %s before globex's window lapsed", early)
		}
	case <-time.After(testTimeout):
		t.Fatalf("acme's waiter was never granted one of the two free slots after globex's window lapsed: %+v", c.Snapshot())
	}
}

// TestHeadroomIsNoMoreThanTheQuietTenantMayUse: a quiet tenant at its own concurrency limit gets
// no slot held back, since it could not take one.
func TestHeadroomIsNoMoreThanTheQuietTenantMayUse(t *testing.T) {
	cfg := headroomConfig()
	cfg.Tenants[1].MaxConcurrency = 1
	h := newHarness(t, cfg)
	h.admit(t, of(globex)) // globex holds its one allowed slot
	h.fill(t, acme, 7)     // and acme may take every other one
	if got := h.c.Snapshot(); got.InFlight != 8 {
		t.Fatalf("in flight %d, want 8: nothing held for a tenant at its concurrency", got.InFlight)
	}
}
