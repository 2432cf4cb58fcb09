package report

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"
)

// gomegaFailure returns the message a real Gomega assertion fails with.
func gomegaFailure(t *testing.T, assert func()) string {
	t.Helper()
	gomega.RegisterTestingT(t)
	msgs := gomega.InterceptGomegaFailures(assert)
	if len(msgs) != 1 {
		t.Fatalf("the assertion failed %d times, want once: %q", len(msgs), msgs)
	}
	return msgs[0]
}

// goSyntax are fragments of a Gomega dump no sentence for people may carry.
var goSyntax = []string{"*net.OpError", "<", ">", "{", "}", "0x", "IP:", "Expected\n", "\n"}

func assertPlain(t *testing.T, note string) {
	t.Helper()
	for _, s := range goSyntax {
		if strings.Contains(note, s) {
			t.Errorf("note %q contains %q", note, s)
		}
	}
}

func TestCondenseUnexpectedErrorKeepsDescriptionAndErrorText(t *testing.T) {
	_, err := (&net.Dialer{}).Dial("tcp", "127.0.0.1:1")
	if err == nil {
		t.Skip("something listens on 127.0.0.1:1")
	}
	msg := gomegaFailure(t, func() { gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the runtime answers on %s", "127.0.0.1:1") })
	if !strings.Contains(msg, "*net.OpError") {
		t.Fatalf("the Gomega message is not the dump this test is about: %q", msg)
	}
	got := Condense(msg, "/src/arcert/suites/outcomes.go:57")
	assertPlain(t, got)
	want := "the runtime answers on 127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused"
	if got != want {
		t.Errorf("Condense = %q, want %q", got, want)
	}
}

func TestCondenseBareDumpNamesTheCheckAndTheValues(t *testing.T) {
	msg := gomegaFailure(t, func() { gomega.Expect(3).To(gomega.Equal(4)) })
	got := Condense(msg, "/src/arcert/suites/quotas.go:136")
	assertPlain(t, got)
	if want := "the check at suites/quotas.go:136 failed: expected 3 to equal 4"; got != want {
		t.Errorf("Condense = %q, want %q", got, want)
	}
}

func TestCondenseStructuredDumpKeepsNoneOfIt(t *testing.T) {
	msg := gomegaFailure(t, func() { gomega.Expect(map[string]int{"a": 1}).To(gomega.HaveKey("b")) })
	got := Condense(msg, "/src/arcert/suites/tenancy.go:9")
	assertPlain(t, got)
	if got != "the check at suites/tenancy.go:9 failed" {
		t.Errorf("Condense = %q", got)
	}
}

func TestCondenseKeepsAPlainMessage(t *testing.T) {
	plain := "tenant acme was shown globex's quota"
	if got := Condense(plain, "x/y.go:1"); got != plain {
		t.Errorf("Condense = %q, want the message unchanged", got)
	}
}

// A failed spec's requirement carries one line with no dump; the log file carries the dump.
func TestFailedRequirementNoteIsOneSentenceAndTheLogHasTheDump(t *testing.T) {
	err := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: errors.New("connect: connection refused")}
	msg := gomegaFailure(t, func() { gomega.Expect(err).NotTo(gomega.HaveOccurred()) })
	spec := SpecRecord{Name: "outcomes every response", Requirements: []string{"OUT-1"}, State: SpecFailed, Message: msg, Location: "/src/arcert/suites/outcomes.go:40"}
	q := result(Compute(inputs([]SpecRecord{spec}, all, "OUT-1")), "OUT-1")
	if q.Result != Fail {
		t.Fatalf("result %s, want FAIL", q.Result)
	}
	assertPlain(t, q.Note)
	if !strings.Contains(q.Note, "suites/outcomes.go:40") || !strings.Contains(q.Note, "connection refused") {
		t.Errorf("note %q does not name the check and the error", q.Note)
	}
	var x bytes.Buffer
	if err := WriteJUnit(&x, &Report{Profiles: []ProfileResult{{Name: "core"}}, Requirements: []Requirement{q}}); err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`message="([^"]*)"`).FindStringSubmatch(x.String()); m == nil || strings.Contains(m[1], "Unexpected error") || !strings.Contains(m[1], "connection refused") {
		t.Errorf("JUnit failure message %q, want the note", m)
	}
	dir := t.TempDir()
	path, werr := WriteFailureLog(dir, []SpecRecord{spec, {Name: "passed", State: SpecPassed}})
	if werr != nil {
		t.Fatal(werr)
	}
	if path != filepath.Join(dir, FailuresFile) {
		t.Errorf("log written to %s", path)
	}
	data, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatal(rerr)
	}
	for _, want := range []string{"*net.OpError", "IP:", "OUT-1", "/src/arcert/suites/outcomes.go:40"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the log lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), "=== passed") {
		t.Error("the log lists a spec that passed")
	}
	if p, _ := WriteFailureLog(t.TempDir(), []SpecRecord{{Name: "passed", State: SpecPassed}}); p != "" {
		t.Errorf("a run without failures wrote %s", p)
	}
}

// A requirement the plan excluded (feature declared, a field its judgement needs left out) is
// NOT_SUPPORTED with the plan's reason, not NOT_RUN; one whose spec ran keeps its result.
func TestExcludedRequirementIsNotSupportedWithTheReason(t *testing.T) {
	in := inputs([]SpecRecord{{Name: "q2", Requirements: []string{"QUO-2"}, State: SpecFailed, Message: "boom"}}, all, "QUO-1", "QUO-2")
	in.Excluded = map[string]string{"QUO-1": "tenant a states no full quota", "QUO-2": "tenant a states no full quota"}
	r := Compute(in)
	q1 := result(r, "QUO-1")
	if q1.Result != NotSupported || q1.Note != "tenant a states no full quota" {
		t.Errorf("QUO-1: %s: %q", q1.Result, q1.Note)
	}
	if q2 := result(r, "QUO-2"); q2.Result != Fail {
		t.Errorf("QUO-2 ran and failed, but is %s", q2.Result)
	}
	if r.Counts[NotSupported] != 1 || r.Counts[Fail] != 1 {
		t.Errorf("counts %v", r.Counts)
	}
	// Without the failure, the profile is incomplete: a declared feature's MUST went unjudged.
	in = inputs(nil, all, "QUO-1")
	in.Excluded = map[string]string{"QUO-1": "tenant a states no full quota"}
	r = Compute(in)
	if !result(r, "QUO-1").Unjudged {
		t.Error("QUO-1 is not marked unjudged")
	}
	for _, p := range r.Profiles {
		if p.Name == "core" && p.Result != "incomplete" {
			t.Errorf("core is %s, want incomplete (QUO-1 unjudged)", p.Result)
		}
	}
}

func TestCondenseEventually(t *testing.T) {
	msg := gomegaFailure(t, func() {
		gomega.Eventually(func() int { return 1 }).WithTimeout(30*time.Millisecond).WithPolling(5*time.Millisecond).
			Should(gomega.Equal(2), "the runtime recovers within %s", "30ms")
	})
	got := Condense(msg, "/src/suites/resilience_region.go:9")
	assertPlain(t, got)
	if !regexp.MustCompile(`^the runtime recovers within 30ms \(gave up after 0\.0[0-9]+s\)$`).MatchString(got) {
		t.Errorf("Condense = %q", got)
	}
	msg = gomegaFailure(t, func() {
		gomega.Eventually(func() error { return errors.New("dial tcp 127.0.0.1:1: connect: connection refused") }).
			WithTimeout(30 * time.Millisecond).WithPolling(5 * time.Millisecond).Should(gomega.Succeed())
	})
	got = Condense(msg, "/src/suites/resilience_region.go:9")
	assertPlain(t, got)
	if !strings.HasPrefix(got, "the check at suites/resilience_region.go:9 failed: dial tcp 127.0.0.1:1: connect: connection refused (gave up after") {
		t.Errorf("Condense = %q", got)
	}
}
