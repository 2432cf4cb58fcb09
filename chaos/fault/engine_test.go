package fault

import (
	"bufio"
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/link"
)

// echo serves a line-echo upstream on loopback for the proxies to front.
func echo(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return lis.Addr().String()
}

func newEngine(t *testing.T) *Engine {
	t.Helper()
	srv, err := StartServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return New(srv.URL())
}

// roundTrip sends a line through addr and returns how long the echo took, or the error.
func roundTrip(addr string, deadline time.Duration) (time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, deadline)
	if err != nil {
		return 0, err
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(deadline))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, err
	}
	if line != "ping\n" {
		return 0, errors.New("echo garbled: " + line)
	}
	return time.Since(start), nil
}

func TestDownRefusesAndHealRestores(t *testing.T) {
	e := newEngine(t)
	l, err := e.Proxy(link.Link{Role: link.RoleCache, Name: "l2", Dial: "127.0.0.1:0", Upstream: echo(t)})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.Bytes(context.Background(), link.RoleCache, ""); err != nil || n != 0 {
		t.Fatalf("bytes before any traffic: %d, %v", n, err)
	}
	if _, err := roundTrip(l.Dial, time.Second); err != nil {
		t.Fatalf("before the fault: %v", err)
	}
	// The counters are updated as data leaves the link, a moment after the echo arrives.
	var n int64
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n, err = e.Bytes(context.Background(), link.RoleCache, "l2"); err != nil || n >= int64(len("ping\n")) {
			break
		}
	}
	if err != nil || n < int64(len("ping\n")) {
		t.Fatalf("bytes after one echo: %d, %v; want at least %d", n, err, len("ping\n"))
	}
	a, err := e.Inject(link.RoleCache, "", Fault{Kind: Down})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(l.Dial, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("down proxy: want connection refused, got %v", err)
	}
	if err := e.Residue(); !errors.Is(err, ErrResidue) {
		t.Fatalf("residue while down: want ErrResidue, got %v", err)
	}
	if err := a.Heal(); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(l.Dial, time.Second); err != nil {
		t.Fatalf("after healing: %v", err)
	}
	if err := e.Residue(); err != nil {
		t.Fatalf("residue after healing: %v", err)
	}
	w := e.Windows()
	if len(w) != 1 || w[0].End.Before(w[0].Start) || w[0].End.IsZero() {
		t.Fatalf("windows: %+v", w)
	}
}

func TestToxicsApplyToEveryLinkOfARoleAndHealAllRemovesThem(t *testing.T) {
	e := newEngine(t)
	up := echo(t)
	var links []Link
	for _, part := range []string{"worker-a", "worker-b"} {
		l, err := e.Proxy(link.Link{Role: link.RoleRegion, Name: "eu-west", Part: part, Dial: "127.0.0.1:0", Upstream: up})
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, l)
	}
	other, err := e.Proxy(link.Link{Role: link.RoleRegion, Name: "us-east", Part: "worker-c", Dial: "127.0.0.1:0", Upstream: up})
	if err != nil {
		t.Fatal(err)
	}
	const delay = 150 * time.Millisecond
	if _, err := e.Inject(link.RoleRegion, "eu-west", Fault{Kind: Latency, Latency: delay}); err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		d, err := roundTrip(l.Dial, 5*time.Second)
		if err != nil || d < delay {
			t.Fatalf("%s under latency: took %v, err %v; want at least %v", l.Proxy, d, err, delay)
		}
	}
	if d, err := roundTrip(other.Dial, 5*time.Second); err != nil || d >= delay {
		t.Fatalf("us-east is not in the fault: took %v, err %v", d, err)
	}
	if _, err := e.Inject(link.RoleRegion, "us-east", Fault{Kind: ResetPeer}); err != nil {
		t.Fatal(err)
	}
	if err := e.Residue(); err == nil {
		t.Fatal("toxics in force but no residue reported")
	}
	if err := e.HealAll(); err != nil {
		t.Fatal(err)
	}
	if err := e.Residue(); err != nil {
		t.Fatalf("after HealAll: %v", err)
	}
	if _, err := roundTrip(other.Dial, time.Second); err != nil {
		t.Fatalf("us-east after HealAll: %v", err)
	}
}

func TestInvalidFaultsAreRefused(t *testing.T) {
	e := newEngine(t)
	if _, err := e.Proxy(link.Link{Role: link.RoleQueue, Name: "jetstream", Dial: "127.0.0.1:0", Upstream: echo(t)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Inject(link.RoleQueue, "", Fault{Kind: Latency}); !errors.Is(err, ErrFault) {
		t.Fatalf("latency without a duration: want ErrFault, got %v", err)
	}
	if _, err := e.Inject(link.RoleEvidence, "", Fault{Kind: Down}); !errors.Is(err, ErrNoLink) {
		t.Fatalf("undeclared role: want ErrNoLink, got %v", err)
	}
	if _, err := e.Inject(link.RoleQueue, "", Fault{Kind: "meteor"}); !errors.Is(err, ErrFault) {
		t.Fatalf("unknown kind: want ErrFault, got %v", err)
	}
	if err := e.Residue(); err != nil {
		t.Fatalf("a refused fault left residue: %v", err)
	}
}
