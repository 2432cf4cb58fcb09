package router

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
)

// stalledEvidence is an evidence store whose appends wait until release is closed, as a
// replicated append waits for its acknowledgement.
type stalledEvidence struct {
	release  chan struct{}
	appended atomic.Int32
}

func (s *stalledEvidence) Append(ctx context.Context, r discovery.Record) (discovery.Record, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
		return discovery.Record{}, ctx.Err()
	}
	s.appended.Add(1)
	return r, nil
}

func (s *stalledEvidence) ByRequestID(context.Context, string) ([]discovery.Record, error) {
	return nil, nil
}

func (s *stalledEvidence) Since(context.Context, uint64, int) ([]discovery.Record, error) {
	return nil, nil
}

// TestStalledEvidenceDoesNotHoldTheConnection: while the evidence write of one response is
// stalled, the next request sent on the same kept-alive connection is answered at once. The
// write used to run in the handler, and an HTTP/1.1 server reads a connection's next request
// only once its handler returned, so a slow acknowledgement delayed every request sent meanwhile
// (ADM-2's time-to-shed against the Compose deployment). The record is still written, and
// WaitRecords waits for it.
func TestStalledEvidenceDoesNotHoldTheConnection(t *testing.T) {
	cfg := &config.Config{TrafficClasses: []config.TrafficClass{{Name: "interactive", QueueCapacity: 1, Deadline: 5 * time.Second}},
		Tenants: []config.Tenant{{Name: "acme", Quota: config.Quota{RequestsPerMinute: 60, TokensPerMinute: 6000, MaxConcurrency: 1}}}}
	adm, err := admission.New(admissionConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMetrics(prometheus.NewRegistry(), cfg, adm)
	if err != nil {
		t.Fatal(err)
	}
	ev := &stalledEvidence{release: make(chan struct{})}
	r := &Router{cfg: cfg, adm: adm, ids: identity.NewDirectory(cfg), metrics: m, evidence: ev, log: slog.New(slog.DiscardHandler)}
	srv := httptest.NewServer(r.completion(true))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}} // one connection, kept alive
	defer client.CloseIdleConnections()
	send := func() (time.Duration, int) {
		started := time.Now()
		resp, err := client.Post(srv.URL, "application/json", strings.NewReader(`{}`)) // no credential: refused
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return time.Since(started), resp.StatusCode
	}
	send()                 // its evidence write now stalls
	took, status := send() // on the same connection
	if status != http.StatusUnauthorized {
		t.Fatalf("second request: status %d, want 401 (refused for its missing credential)", status)
	}
	if took > time.Second {
		t.Fatalf("second request on the connection answered after %s, while the first one's evidence write stalled: the write holds the connection", took)
	}
	if n := ev.appended.Load(); n != 0 {
		t.Fatalf("%d records written while the store stalled, want 0", n)
	}
	close(ev.release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.WaitRecords(ctx); err != nil {
		t.Fatalf("WaitRecords: %v", err)
	}
	if n := ev.appended.Load(); n != 2 {
		t.Fatalf("%d records written once the store answered, want 2 (one per response)", n)
	}
}

// TestPendingWaitCoversOlderTicketsOnly: wait returns once every ticket taken before it ended,
// whatever tickets are taken later, so a reader of evidence finds the records of responses it
// saw without starving behind new ones.
func TestPendingWaitCoversOlderTicketsOnly(t *testing.T) {
	var p pendingRecords
	old := p.begin()
	waited := make(chan error, 1)
	mark := p.mark() // as wait takes it on being called
	newer := p.begin()
	go func() { waited <- p.waitFor(context.Background(), mark) }()
	stillWaiting(t, waited, "wait returned while an older record was still being written")
	p.end(old)
	returnsNil(t, waited, "wait still blocked after the older record ended: it waits for a newer one too")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.drain(ctx); err == nil {
		t.Fatal("drain returned while a record was still being written")
	}
	p.end(newer)
	if err := p.drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestDrainWithTicketsStillTaken: tickets taken and ended while drain waits (a handler finishing
// after a forced stop) neither break drain nor end it early; it returns once none is open.
func TestDrainWithTicketsStillTaken(t *testing.T) {
	var p pendingRecords
	open := p.begin()
	drained := make(chan error, 1)
	go func() { drained <- p.drain(context.Background()) }()
	for range 2000 { // each ticket is taken before the last one ends: one stays open throughout
		next := p.begin()
		p.end(open)
		open = next
	}
	stillWaiting(t, drained, "drain returned with a ticket still open")
	p.end(open)
	returnsNil(t, drained, "drain still waits with no ticket open")
}

// TestDrainWhileTicketsComeAndGo: drain called again and again while tickets are taken and ended
// around it, the count reaching zero and rising again, returns each time. (A sync.WaitGroup in
// its place could panic when an Add came after the count reached zero and before its Wait
// returned; that interleaving is too narrow for this test to provoke: it ran 6,000 times without.)
func TestDrainWhileTicketsComeAndGo(t *testing.T) {
	var p pendingRecords
	for range 2000 {
		a := p.begin()
		drained := make(chan error, 1)
		go func() { drained <- p.drain(context.Background()) }()
		p.end(a)
		b := p.begin()
		p.end(b)
		returnsNil(t, drained, "drain still waits with no ticket open")
	}
}

// stillWaiting fails the test when done delivers within 50 ms: what it stands for returned early.
func stillWaiting(t *testing.T, done <-chan error, early string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s (%v)", early, err)
	case <-time.After(50 * time.Millisecond):
	}
}

// returnsNil fails the test unless done delivers nil within 2 s.
func returnsNil(t *testing.T, done <-chan error, stuck string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal(stuck)
	}
}
