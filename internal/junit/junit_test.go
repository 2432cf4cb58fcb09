package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

// TestAddAndWrite: each outcome gets its element and its count, a skipped case only the
// one-line message, and the document reads back as written.
func TestAddAndWrite(t *testing.T) {
	s := Suite{Name: "s"}
	m := Message{Message: "m", Type: "T", Text: "body"}
	for _, o := range []Outcome{Passed, Failed, Errored, Skipped} {
		s.Add(Case{Name: "c"}, o, m)
	}
	if s.Tests != 4 || s.Failures != 1 || s.Errors != 1 || s.Skipped != 1 {
		t.Fatalf("counts %+v", s)
	}
	c := s.Cases
	if c[0].Failure != nil || c[0].Error != nil || c[0].Skipped != nil || c[1].Failure == nil || c[2].Error == nil ||
		*c[3].Skipped != (Message{Message: "m"}) {
		t.Fatalf("cases %+v", c)
	}
	var buf bytes.Buffer
	if err := Write(&buf, Suites{Name: "all", Suites: []Suite{s}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), xml.Header+"<testsuites") || !strings.HasSuffix(buf.String(), "</testsuites>\n") {
		t.Fatalf("document:\n%s", buf.String())
	}
	var back Suites
	if err := xml.Unmarshal(buf.Bytes(), &back); err != nil || len(back.Suites) != 1 || back.Suites[0].Cases[1].Failure.Text != "body" {
		t.Fatalf("read back %v: %+v", err, back)
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine("FAIL", ""); got != "FAIL" {
		t.Errorf("got %q", got)
	}
	if got := OneLine("FAIL", "why"); got != "FAIL: why" {
		t.Errorf("got %q", got)
	}
	long := OneLine("FAIL", strings.Repeat("é", 300))
	if r := []rune(long); len(r) != MessageMax+1 || r[MessageMax] != '…' {
		t.Errorf("long message is %d runes", len(r))
	}
}
