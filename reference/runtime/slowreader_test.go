package runtime

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
)

// stalledWriteTimeout is the interactive class's write timeout in TestSlowReaderIsEndedTooSlow:
// short, so the test is quick.
const stalledWriteTimeout = 200 * time.Millisecond

// stalledRcvBuf is the stalled client's socket receive buffer: small, so the runtime's writes
// block after a few kilobytes instead of filling loopback's megabytes of buffer.
const stalledRcvBuf = 2048

// stalledTokens is the stalled stream's length: its chunks are many megabytes, more than
// loopback's socket buffers (up to 4 MiB for sending) can take while nobody reads.
const stalledTokens = 65536

// stall opens a stream of stalledTokens as acme over a connection with a tiny receive buffer,
// reads its status line and then reads nothing more. It returns the request id and the connection.
func stall(t *testing.T, rt *Runtime) (string, net.Conn) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, stalledRcvBuf)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", rt.Topology().HTTP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	body := fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"write a long story"}],"max_tokens":%d,"stream":true}`, model, stalledTokens)
	fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: aruntime\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", acmeKey, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 16), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stalled stream: status %d", resp.StatusCode)
	}
	return resp.Header.Get(outcome.HeaderRequestID), conn
}

// stalledConfig is one worker of one fast batch place, a model that can write megabytes, and an
// interactive class with stalledWriteTimeout.
func stalledConfig(t *testing.T) *config.Config {
	return slowConfig(t, func(cfg *config.Config) {
		cfg.Workers[0].Engine.DecodeStepBase = 10 * time.Microsecond
		for i := range cfg.Models {
			cfg.Models[i].ContextLength = 2 * stalledTokens
			cfg.Models[i].MaxOutputTokens = stalledTokens
		}
		cfg.TrafficClasses[0].WriteTimeout = stalledWriteTimeout
	})
}

func TestSlowReaderIsEndedTooSlow(t *testing.T) {
	rt := start(t, stalledConfig(t))
	id, _ := stall(t, rt)
	// The only slot is the stalled stream's until its write times out; then globex is served.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		recs := evidenceOf(t, rt, acmeKey, id)
		if len(recs) > 0 {
			if got := string(recs[0].Outcome) + "/" + string(recs[0].Reason); got != "failed/client_too_slow" {
				t.Fatalf("stalled stream recorded %s, want failed/client_too_slow", got)
			}
			r := post(t, rt, "/v1/chat/completions", globexKey, chat("hello", 4), nil)
			expectOutcome(t, r, http.StatusOK, "completed", "none")
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the stalled stream never ended")
}

// stalledHold is how long TestSlowReaderHoldsSlotDefect watches the stalled stream: many write
// timeouts.
const stalledHold = 10 * stalledWriteTimeout

// TestSlowReaderHoldsSlotDefect: the negative-control switch really keeps the stalled stream, and
// its slot, past the write timeout.
func TestSlowReaderHoldsSlotDefect(t *testing.T) {
	cfg := stalledConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := Start(ctx, cfg, Options{Router: true, Workers: workerIDs(cfg),
		Defects: Defects{Admission: AdmissionDefects{SlowReaderHoldsSlot: true}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rt.Shutdown(context.Background()) }()
	id, conn := stall(t, rt)
	time.Sleep(stalledHold) // nothing to poll for: the point is that nothing happens
	if recs := evidenceOf(t, rt, acmeKey, id); len(recs) != 0 {
		t.Fatalf("the stalled stream ended %s/%s under SlowReaderHoldsSlot", recs[0].Outcome, recs[0].Reason)
	}
	_ = conn.Close() // the client goes away, and only that frees the slot
}
