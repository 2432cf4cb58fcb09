package jetstream

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestStreamSurvivesRestart: a message stored before a shutdown is there after a restart on the
// same directory, which is what every durable part relies on.
func TestStreamSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := Start("127.0.0.1:0", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, js, err := Connect(s.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.one", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	s.Shutdown()

	s, err = Start("127.0.0.1:0", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, js, err = Connect(s.URL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(ctx, "t.one")
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if string(msg.Data) != "kept" {
		t.Fatalf("after restart the message is %q", msg.Data)
	}
}
