package fault

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// fakeNodes records what was done to which part; it can kill and restart only.
type fakeNodes struct {
	calls []string
	fail  error
}

func (f *fakeNodes) Parts(string) []string { return []string{"w1", "w2"} }
func (f *fakeNodes) Kill(_ context.Context, _, name string) error {
	f.calls = append(f.calls, "kill "+name)
	return f.fail
}
func (f *fakeNodes) Restart(_ context.Context, _, name string) error {
	f.calls = append(f.calls, "restart "+name)
	return nil
}
func (f *fakeNodes) Residue(context.Context) error { return nil }

// pausingNodes can pause as well.
type pausingNodes struct{ fakeNodes }

func (p *pausingNodes) Pause(_ context.Context, _, name string) error {
	p.calls = append(p.calls, "pause "+name)
	return nil
}
func (p *pausingNodes) Unpause(_ context.Context, _, name string) error {
	p.calls = append(p.calls, "unpause "+name)
	return nil
}

func TestInjectNodeKillIsUndoneByRestart(t *testing.T) {
	n := &fakeNodes{}
	undo, err := InjectNode(context.Background(), n, Kill, "worker", "w1")
	if err != nil {
		t.Fatal(err)
	}
	if err := undo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"kill w1", "restart w1"}; !slices.Equal(n.calls, want) {
		t.Fatalf("calls %v, want %v", n.calls, want)
	}
}

func TestInjectNodeFailedKillStillReturnsItsUndo(t *testing.T) {
	n := &fakeNodes{fail: errors.New("no answer")}
	undo, err := InjectNode(context.Background(), n, Kill, "worker", "w2")
	if err == nil || undo == nil {
		t.Fatalf("want an error and an undo, got %v, undo nil: %v", err, undo == nil)
	}
}

func TestInjectNodeNeedsTheCapability(t *testing.T) {
	if _, err := InjectNode(context.Background(), &fakeNodes{}, Pause, "worker", "w1"); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("pause on nodes that cannot pause: want ErrUnsupported, got %v", err)
	}
	p := &pausingNodes{}
	undo, err := InjectNode(context.Background(), p, Pause, "worker", "w1")
	if err != nil {
		t.Fatal(err)
	}
	_ = undo(context.Background())
	if want := []string{"pause w1", "unpause w1"}; !slices.Equal(p.calls, want) {
		t.Fatalf("calls %v, want %v", p.calls, want)
	}
	if _, err := InjectNode(context.Background(), p, Latency, "worker", "w1"); !errors.Is(err, ErrFault) {
		t.Fatalf("latency as a node fault: want ErrFault, got %v", err)
	}
	if !Kill.IsNode() || !Partition.IsNode() || Down.IsNode() {
		t.Fatal("IsNode misclassifies")
	}
}
