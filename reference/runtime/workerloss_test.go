package runtime

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// cutter forwards TCP connections to an upstream until cut, which closes the listener and every
// live connection at once: a worker's host vanishing, as the router sees it.
type cutter struct {
	lis   net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newCutter(t *testing.T, upstream string) *cutter {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{lis: lis}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			down, err := lis.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				_ = down.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, down, up)
			c.mu.Unlock()
			c.wg.Add(2)
			go func() { defer c.wg.Done(); _, _ = io.Copy(up, down); _ = up.Close() }()
			go func() { defer c.wg.Done(); _, _ = io.Copy(down, up); _ = down.Close() }()
		}
	}()
	t.Cleanup(c.cut)
	return c
}

func (c *cutter) addr() string { return c.lis.Addr().String() }

func (c *cutter) cut() {
	_ = c.lis.Close()
	c.mu.Lock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
	c.mu.Unlock()
	c.wg.Wait()
}

// TestWorkerLostMidStream: when the worker's link is cut mid-stream, the stream ends with an error
// event and trailer saying failed/worker_lost, and the next request is failed/no_healthy_worker
// rather than hanging.
func TestWorkerLostMidStream(t *testing.T) {
	cfg := slowConfig(t, nil)
	id := cfg.Workers[0].ID
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	workers, err := Start(ctx, cfg, Options{Workers: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = workers.Shutdown(ctx) })
	link := newCutter(t, workers.Topology().Workers[id])
	cfg.Workers[0].Address = link.addr()
	rt, err := Start(ctx, cfg, Options{Router: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(ctx) })

	body := chat("a long story", 200)
	body["stream"] = true
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions", strings.NewReader(string(mustMarshal(t, body))))
	req.Header.Set("Authorization", "Bearer "+acmeKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.Header.Get("ARuntime-Outcome") != "completed" {
		t.Fatalf("stream started with outcome %q", resp.Header.Get("ARuntime-Outcome"))
	}
	first := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, first); err != nil { // output is flowing
		t.Fatal(err)
	}
	link.cut()
	rest, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if !strings.Contains(string(rest), `"error"`) || !strings.Contains(string(rest), `"reason":"worker_lost"`) || !strings.Contains(string(rest), "[DONE]") {
		t.Fatalf("stream did not end with a worker_lost error event: %s", rest)
	}
	if resp.Trailer.Get("ARuntime-Outcome") != "failed" || resp.Trailer.Get("ARuntime-Outcome-Reason") != "worker_lost" {
		t.Fatalf("trailer %v", resp.Trailer)
	}
	// What went out before the worker was lost is billed: the prompt and at least the first chunk.
	if rec := recordOf(t, rt, resp.Header.Get("X-Request-Id")); rec.Tokens.Prompt == 0 || rec.Tokens.Completion == 0 {
		t.Fatalf("a stream cut mid-way by a lost worker billed %d prompt and %d completion tokens", rec.Tokens.Prompt, rec.Tokens.Completion)
	}
	next := post(t, rt, "/v1/chat/completions", acmeKey, chat("anyone there?", 1), nil)
	expectOutcome(t, next, http.StatusServiceUnavailable, "failed", "no_healthy_worker")
}
