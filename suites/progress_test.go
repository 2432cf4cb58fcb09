package suites

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/aruntime/arcert/conformance/report"
)

// lockedBuffer is written by the progress ticker and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func spec(state types.SpecState, took time.Duration, labels ...string) types.SpecReport {
	return types.SpecReport{LeafNodeType: types.NodeTypeIt, State: state, RunTime: took, LeafNodeLabels: labels}
}

func TestProgressLines(t *testing.T) {
	var out lockedBuffer
	p := newProgress(&out, false, []string{"core", "resilience"}, map[string]int{"core": 2, "resilience": 1})
	ten3 := spec(types.SpecStatePassed, 7900*time.Millisecond, "req:TEN-3", "profile:core")
	p.began(ten3)
	p.ended(ten3)
	failed := spec(types.SpecStateFailed, 2*time.Second, "req:OUT-2", "profile:core")
	failed.Failure.Message = "3 answers came late\nand a dump"
	p.began(failed)
	p.ended(failed)
	gated := spec(types.SpecStatePassed, time.Second, "req:FLT-1", "profile:resilience")
	gated.ReportEntries = types.ReportEntries{{Name: entryVerdict, Value: types.WrapEntryValue(verdict{report.Invalid, "only 3 samples"})}}
	p.began(gated)
	p.ended(gated)
	skipped := spec(types.SpecStateSkipped, 0, "req:FLT-1", "profile:resilience")
	p.began(skipped)
	p.ended(skipped)
	p.finish()
	want := "arcert: specs to run: core 2, resilience 1\n[core 1/2] TEN-3 PASS 7.9s\n[core 2/2] OUT-2 FAIL 2s: 3 answers came late\n[resilience 1/1] FLT-1 INVALID 1s: only 3 samples\n"
	if out.String() != want {
		t.Fatalf("progress:\n%q\nwant\n%q", out.String(), want)
	}
}

func TestProgressStatusNamesWhatRunsAndWhatIsLeft(t *testing.T) {
	var out lockedBuffer
	p := newProgress(&out, true, []string{"core", "resilience"}, map[string]int{"core": 2, "resilience": 3})
	defer p.finish()
	p.began(spec(types.SpecStatePassed, 0, "req:TEN-3", "profile:core"))
	p.mu.Lock()
	status := p.status()
	p.mu.Unlock()
	for _, want := range []string{"running TEN-3", "run ", "core 0/2", "resilience 0/3"} {
		if !strings.Contains(status, want) {
			t.Errorf("status %q lacks %q", status, want)
		}
	}
}
