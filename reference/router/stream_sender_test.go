package router

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// blockingStream is a server stream whose blockAt-th Send blocks until release is closed.
type blockingStream struct {
	grpc.ServerStream
	sent    atomic.Int64
	blockAt int64         // the Send (1-based) that blocks until release is closed; 0: none
	release chan struct{} // closed to let the blocked Send return
}

func (s *blockingStream) Send(*arcertv1.CompleteResponse) error {
	if n := s.sent.Add(1); n == s.blockAt {
		<-s.release
		return errors.New("stream ended")
	}
	return nil
}

// TestStreamSenderBoundsEachSend: messages go out in order within the bound; a Send the client
// blocks ends client_too_slow after the bound, every later send fails at once without reaching
// the stream, and close ends the sender's goroutine once the stuck Send returns.
func TestStreamSenderBoundsEachSend(t *testing.T) {
	st := &blockingStream{blockAt: 4, release: make(chan struct{})}
	before := runtime.NumGoroutine()
	s := &streamSender{stream: st, d: 50 * time.Millisecond}
	for i := range 3 {
		if err := s.send(&arcertv1.CompleteResponse{}); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	began := time.Now()
	if err := s.send(&arcertv1.CompleteResponse{}); !errors.Is(err, errClientTooSlow) {
		t.Fatalf("blocked send: %v, want errClientTooSlow", err)
	}
	if waited := time.Since(began); waited < 50*time.Millisecond {
		t.Fatalf("blocked send gave up after %v, before its 50ms bound", waited)
	}
	if err := s.send(&arcertv1.CompleteResponse{}); !errors.Is(err, errClientTooSlow) {
		t.Fatalf("send after a timeout: %v, want errClientTooSlow at once", err)
	}
	if n := st.sent.Load(); n != 4 {
		t.Fatalf("the stream saw %d sends, want 4 (none after the timeout)", n)
	}
	s.close()
	close(st.release)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after close, %d before: the sender's goroutine did not end", n, before)
	}
}

// TestStreamSenderUnbounded: with no bound, sends go straight to the stream, no goroutine.
func TestStreamSenderUnbounded(t *testing.T) {
	st := &blockingStream{}
	s := &streamSender{stream: st}
	for range 3 {
		if err := s.send(&arcertv1.CompleteResponse{}); err != nil {
			t.Fatal(err)
		}
	}
	if s.out != nil || st.sent.Load() != 3 {
		t.Fatalf("unbounded sender started a goroutine (%v) or lost sends (%d of 3)", s.out != nil, st.sent.Load())
	}
	s.close()
}
