package scenario

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
)

func TestModesPickSeededAndReproducibly(t *testing.T) {
	parts := []string{"w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"}
	for _, tc := range []struct {
		mode Mode
		want int
	}{
		{Mode{}, 8}, {Mode{Kind: All}, 8}, {Mode{Kind: One}, 1}, {Mode{Kind: Fixed, N: 3}, 3},
		{Mode{Kind: Percent, Percent: 50}, 4}, {Mode{Kind: Percent, Percent: 10}, 1}, {Mode{Kind: Percent, Percent: 30}, 3},
	} {
		a, err := tc.mode.pick(parts, 42, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		b, _ := tc.mode.pick(parts, 42, 0)
		if len(a) != tc.want || !slices.Equal(a, b) || !slices.IsSorted(a) {
			t.Fatalf("%s: picked %v then %v; want %d, the same twice, in order", tc.mode, a, b, tc.want)
		}
	}
	// Another seed picks other parts (for at least one of several seeds: no fixed pick).
	first, _ := Mode{Kind: Fixed, N: 2}.pick(parts, 1, 0)
	differs := false
	for seed := int64(2); seed < 10; seed++ {
		other, _ := Mode{Kind: Fixed, N: 2}.pick(parts, seed, 0)
		differs = differs || !slices.Equal(first, other)
	}
	if !differs {
		t.Fatalf("seeds 1..9 all pick %v", first)
	}
	if _, err := (Mode{Kind: Fixed, N: 9}).pick(parts, 1, 0); err == nil || !strings.Contains(err.Error(), "only 8 match") {
		t.Fatalf("fixed:9 of 8: %v", err)
	}
	if _, err := (Mode{Kind: Percent, Percent: 0}).pick(parts, 1, 0); err == nil {
		t.Fatal("percent:0 picked")
	}
}

// fakeNodes kills and restarts parts, and says which are still killed.
type fakeNodes struct {
	mu     sync.Mutex
	parts  []string
	killed map[string]bool
	log    []string
}

func (n *fakeNodes) Parts(role string) []string {
	if role != "worker" {
		return nil
	}
	return n.parts
}

func (n *fakeNodes) Kill(_ context.Context, _, name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.killed[name] = true
	n.log = append(n.log, "kill "+name)
	return nil
}

func (n *fakeNodes) Restart(_ context.Context, _, name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.killed, name)
	n.log = append(n.log, "restart "+name)
	return nil
}

func (n *fakeNodes) Residue(context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.killed) > 0 {
		return fmt.Errorf("%w: %d killed", fault.ErrResidue, len(n.killed))
	}
	return nil
}

func TestNodeFaultsKillTheSeededPartsAndRestartThem(t *testing.T) {
	run := func() (Outcome, []string) {
		nodes := &fakeNodes{parts: []string{"w1", "w2", "w3", "w4"}, killed: map[string]bool{}}
		f := newFake(NewVirtualClock(t0))
		env := f.env()
		env.Nodes = nodes
		p := Plan{Name: "kill", Seed: 3, Phases: []Phase{{Name: "all", Duration: 10 * time.Second}},
			Faults: []Fault{{Name: "kill two", At: time.Second, For: 2 * time.Second, Fault: fault.Fault{Kind: fault.Kill},
				Select: Selector{Role: "worker", Mode: Mode{Kind: Fixed, N: 2}}}}}
		return Run(context.Background(), p, env), nodes.log
	}
	out, log := run()
	if out.Status != StatusCompleted || len(out.Faults) != 1 || len(out.Faults[0].Targets) != 2 {
		t.Fatalf("status %s (%s), faults %+v", out.Status, out.Error, out.Faults)
	}
	tg := out.Faults[0].Targets
	want := []string{"kill " + tg[0], "kill " + tg[1], "restart " + tg[1], "restart " + tg[0]}
	if !slices.Equal(log, want) || !out.Residue.OK() {
		t.Fatalf("log %v, want %v; residue %+v", log, want, out.Residue)
	}
	if again, _ := run(); !slices.Equal(again.Faults[0].Targets, tg) {
		t.Fatalf("the same seed picked %v, then %v", tg, again.Faults[0].Targets)
	}
	// A selector that matches nothing is named in the error.
	f := newFake(NewVirtualClock(t0))
	env := f.env()
	env.Nodes = &fakeNodes{parts: []string{"w1"}, killed: map[string]bool{}}
	p := Plan{Name: "none", Phases: []Phase{{Name: "all", Duration: 2 * time.Second}},
		Faults: []Fault{{Name: "kill", For: time.Second, Fault: fault.Fault{Kind: fault.Kill}, Select: Selector{Role: "worker", Name: "w9", Mode: Mode{Kind: One}}}}}
	if out := Run(context.Background(), p, env); out.Status != StatusErrored || !strings.Contains(out.Error, "selector role worker name w9 mode one: no part") {
		t.Fatalf("no match: status %s, error %q", out.Status, out.Error)
	}
}

func TestLinkFaultsGoOnTheSelectedLinksAndLeaveNoResidue(t *testing.T) {
	srv, err := fault.StartServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	eng := fault.New(srv.URL())
	for _, part := range []string{"w1", "w2", "w3"} {
		if _, err := eng.Proxy(link.Link{Role: link.RoleRegion, Name: "eu-west", Part: part, Dial: "127.0.0.1:0", Upstream: "127.0.0.1:9"}); err != nil {
			t.Fatal(err)
		}
	}
	f := newFake(NewVirtualClock(t0))
	env := f.env()
	env.Links = eng
	var during error
	p := Plan{Name: "latency", Seed: 5, Phases: []Phase{{Name: "all", Duration: 5 * time.Second}},
		Faults: []Fault{
			{Name: "slow two", At: time.Second, For: 2 * time.Second, Fault: fault.Fault{Kind: fault.Latency, Latency: 100 * time.Millisecond},
				Select: Selector{Role: string(link.RoleRegion), Name: "eu-west", Mode: Mode{Kind: Percent, Percent: 60}}},
			{Name: "look", At: 1500 * time.Millisecond, For: time.Second, Custom: func(context.Context) (func() error, error) {
				during = eng.Residue()
				return nil, nil
			}},
		}}
	out := Run(context.Background(), p, env)
	if out.Status != StatusCompleted || !out.Residue.OK() {
		t.Fatalf("status %s (%s), residue %+v", out.Status, out.Error, out.Residue)
	}
	if tg := out.Faults[0].Targets; len(tg) != 2 || !strings.HasPrefix(tg[0], "eu-west/") {
		t.Fatalf("targets %v, want two of eu-west's three", tg)
	}
	if !errors.Is(during, fault.ErrResidue) || strings.Count(during.Error(), "carries toxic") != 4 {
		t.Fatalf("while in force (two links, both directions): %v", during)
	}
	if w := eng.Windows(); len(w) != 2 || w[0].End.IsZero() || w[1].End.IsZero() {
		t.Fatalf("windows %+v", w)
	}
}

func TestCommandFaultsRunAndRollBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flag := filepath.Join(dir, "on")
	var seen bool
	f := newFake(NewVirtualClock(t0))
	look := Fault{Name: "look", At: 2 * time.Second, For: time.Second, Custom: func(context.Context) (func() error, error) {
		_, err := os.Stat(flag)
		seen = err == nil
		return nil, nil
	}}
	plan := func(c Command) Plan {
		return Plan{Name: "command", Phases: []Phase{{Name: "all", Duration: 5 * time.Second}},
			Faults: []Fault{{Name: "touch", At: time.Second, For: 3 * time.Second, Command: &c}, look}}
	}
	out := Run(context.Background(), plan(Command{Run: "touch " + flag, Rollback: "rm " + flag}), f.env())
	if out.Status != StatusCompleted || !seen || out.Faults[0].Kind != "command" {
		t.Fatalf("status %s (%s), flag seen during the fault %v, faults %+v", out.Status, out.Error, seen, out.Faults)
	}
	if _, err := os.Stat(flag); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the rollback command left the flag: %v", err)
	}
	// A failing script errors the run; its rollback still runs.
	out = Run(context.Background(), plan(Command{Run: "touch " + flag + "; echo no permission >&2; false", Rollback: "rm -f " + flag}), f.env())
	if out.Status != StatusErrored || !strings.Contains(out.Error, "no permission") || len(out.Rollback) != 1 || !out.Residue.OK() {
		t.Fatalf("failing run: status %s, error %q, rollback %+v, residue %+v", out.Status, out.Error, out.Rollback, out.Residue)
	}
	if _, err := os.Stat(flag); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the rollback of a failed command did not run: %v", err)
	}
	// A failing rollback is retried once in rollback and is residue.
	out = Run(context.Background(), plan(Command{Run: "true", Rollback: "echo still blocked >&2; false"}), f.env())
	if out.Status != StatusDeviated || out.Residue.OK() || !strings.Contains(out.Residue.Message, "rollback command of touch failed") ||
		len(out.Rollback) != 1 || !strings.Contains(out.Rollback[0].Error, "still blocked") || !strings.Contains(out.Faults[0].Error, "still blocked") {
		t.Fatalf("failing rollback: status %s, residue %+v, rollback %+v, faults %+v", out.Status, out.Residue, out.Rollback, out.Faults)
	}
	// A script that outlives its timeout is stopped.
	start := time.Now()
	out = Run(context.Background(), plan(Command{Run: "sleep 10", Timeout: 100 * time.Millisecond}), f.env())
	if out.Status != StatusErrored || !strings.Contains(out.Error, "deadline exceeded after 100ms") || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: status %s, error %q", out.Status, out.Error)
	}
}
