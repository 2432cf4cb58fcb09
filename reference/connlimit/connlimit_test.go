package connlimit

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// serve runs an HTTP server answering 200 "ok" behind a Listener bounded to max.
func serve(t *testing.T, max int) (*Listener, string) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(raw, max, 2500*time.Millisecond)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l, "http://" + raw.Addr().String() + "/v1/chat/completions"
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hold opens n connections that send nothing, so the server holds them open, and waits until the
// listener counts them.
func hold(t *testing.T, l *Listener, addr string, n int) []net.Conn {
	t.Helper()
	host := strings.TrimPrefix(strings.Split(addr, "/v1")[0], "http://")
	var out []net.Conn
	for range n {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		out = append(out, c)
	}
	waitFor(t, "the held connections to be accepted", func() bool { return l.Open() == int64(n) })
	return out
}

// fresh posts on a new connection, so the request needs a place of its own.
func fresh(url string) (*http.Response, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	return client.Post(url, "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
}

// TestPastTheBoundIsShedAtOnce: with every place taken, a new connection's request is answered
// 503 shed/capacity with a request id, a Retry-After and an error body that states the outcome,
// instead of waiting; once a place frees, requests are served again.
func TestPastTheBoundIsShedAtOnce(t *testing.T) {
	l, url := serve(t, 3)
	if res, err := fresh(url); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("within the bound: %v %v", res, err)
	}
	// The server closes its side of that connection after the client has its answer; until then
	// it holds a place, and one of the held connections below would be refused in its stead.
	waitFor(t, "the first connection to close", func() bool { return l.Open() == 0 })
	held := hold(t, l, url, 3)

	start := time.Now()
	res, err := fresh(url)
	if err != nil {
		t.Fatalf("past the bound the client got no answer: %v", err)
	}
	defer res.Body.Close()
	if took := time.Since(start); took > refuseTimeout {
		t.Errorf("the refusal took %s", took)
	}
	var body openai.ErrorBody
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	h := res.Header
	if res.StatusCode != http.StatusServiceUnavailable || h.Get(outcome.HeaderOutcome) != string(outcome.Shed) ||
		h.Get(outcome.HeaderReason) != string(outcome.ReasonCapacity) || h.Get("Retry-After") != "3" ||
		!strings.HasPrefix(h.Get(outcome.HeaderRequestID), "req-") || body.Outcome == nil ||
		body.Outcome.Reason != outcome.ReasonCapacity || body.Error.Code != string(outcome.ReasonCapacity) {
		t.Errorf("refusal: %d %v %+v", res.StatusCode, h, body)
	}
	if l.Refused() != 1 {
		t.Errorf("refused %d, want 1", l.Refused())
	}

	_ = held[0].Close()
	waitFor(t, "a place to free", func() bool { return l.Open() == 2 })
	if res, err := fresh(url); err != nil || res.StatusCode != http.StatusOK {
		t.Errorf("after a place freed: %v %v", res, err)
	}
}

// TestARefusedSilentConnectionIsClosed: a connection past the bound that sends nothing is closed
// within refuseTimeout rather than held.
func TestARefusedSilentConnectionIsClosed(t *testing.T) {
	l, url := serve(t, 1)
	hold(t, l, url, 1)
	c, err := net.Dial("tcp", strings.TrimPrefix(strings.Split(url, "/v1")[0], "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(3 * refuseTimeout))
	if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read %d bytes, %v; want the connection closed", n, err)
	}
}

// TestCloseGivesThePlaceBackOnce: closing a connection twice frees one place, not two.
func TestCloseGivesThePlaceBackOnce(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	l := New(raw, 2, time.Second)
	for range 2 {
		d, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
	}
	first, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); err != nil {
		t.Fatal(err)
	}
	_ = first.Close()
	_ = first.Close()
	if l.Open() != 1 {
		t.Errorf("open %d after two closes of one of two connections, want 1", l.Open())
	}
}

// TestExpectContinueIsAnsweredAtOnce: a refused client that waits for 100 Continue before its
// body gets the 503 without waiting out the refusal's deadline.
func TestExpectContinueIsAnsweredAtOnce(t *testing.T) {
	l, url := serve(t, 1)
	hold(t, l, url, 1)
	c, err := net.Dial("tcp", strings.TrimPrefix(strings.Split(url, "/v1")[0], "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, _ = io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(3 * refuseTimeout))
	line := make([]byte, 12)
	if _, err := io.ReadFull(c, line); err != nil || string(line) != "HTTP/1.1 503" {
		t.Fatalf("read %q, %v; want a 503", line, err)
	}
	if took := time.Since(start); took >= refuseTimeout {
		t.Errorf("the 503 came after %s: the refusal waited for a body the client holds back", took)
	}
}

// TestPriorKnowledgeHTTP2IsClosed: an HTTP/2 client with prior knowledge past the bound is closed
// without an HTTP/1 answer, which it would read as a protocol error.
func TestPriorKnowledgeHTTP2IsClosed(t *testing.T) {
	l, url := serve(t, 1)
	hold(t, l, url, 1)
	c, err := net.Dial("tcp", strings.TrimPrefix(strings.Split(url, "/v1")[0], "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(3 * refuseTimeout))
	if n, err := c.Read(make([]byte, 64)); !errors.Is(err, io.EOF) {
		t.Errorf("read %d bytes, %v; want the connection closed without an answer", n, err)
	}
}

// TestRefusalsAreBounded: past maxRefusing refusals in progress, a further refused connection is
// closed at once instead of getting a goroutine of its own.
func TestRefusalsAreBounded(t *testing.T) {
	l, url := serve(t, 1)
	hold(t, l, url, 1)
	host := strings.TrimPrefix(strings.Split(url, "/v1")[0], "http://")
	for range maxRefusing {
		c, err := net.Dial("tcp", host) // silent: each holds a refuser for refuseTimeout
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	waitFor(t, "every refuser to be busy", func() bool { return len(l.refusing) == maxRefusing })
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(3 * refuseTimeout))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("%v; want the connection closed", err)
	}
	if took := time.Since(start); took >= refuseTimeout/2 {
		t.Errorf("closed after %s; past maxRefusing it must be closed at once", took)
	}
}

// TestCloseWriteReachesTheSocket: the wrapper passes a half-close through, as net/http needs to
// let a client read a 413 before the connection closes.
func TestCloseWriteReachesTheSocket(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	l := New(raw, 1, time.Second)
	d, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	accepted, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer accepted.Close()
	cw, ok := accepted.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("the accepted connection has no CloseWrite")
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = d.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := d.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("%v; want EOF from the half-close", err)
	}
}
