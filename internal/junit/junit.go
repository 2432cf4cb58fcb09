// Package junit writes JUnit XML, the file CI systems read to gate a pipeline, for both of the
// harness's verdicts (certify's report and a game day's journal), so CI reads them the same way:
// suites of cases, each with at most one failure, error or skipped element.
package junit

import (
	"encoding/xml"
	"io"
	"strconv"
)

// Suites is the document's root element.
type Suites struct {
	XMLName   xml.Name `xml:"testsuites"`
	Name      string   `xml:"name,attr"`
	Tests     int      `xml:"tests,attr"`
	Failures  int      `xml:"failures,attr"`
	Errors    int      `xml:"errors,attr"`
	Skipped   int      `xml:"skipped,attr"`
	Time      string   `xml:"time,attr"`
	Timestamp string   `xml:"timestamp,attr"`
	Suites    []Suite  `xml:"testsuite"`
}

// Suite is one group of cases with their counts, which Add keeps.
type Suite struct {
	Name      string `xml:"name,attr"`
	Tests     int    `xml:"tests,attr"`
	Failures  int    `xml:"failures,attr"`
	Errors    int    `xml:"errors,attr"`
	Skipped   int    `xml:"skipped,attr"`
	Time      string `xml:"time,attr"`
	Timestamp string `xml:"timestamp,attr"`
	Cases     []Case `xml:"testcase"`
}

// Case is one judged check; Add sets at most one of Failure, Error and Skipped.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	Failure   *Message `xml:"failure,omitempty"`
	Error     *Message `xml:"error,omitempty"`
	Skipped   *Message `xml:"skipped,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Message is a failure, error or skipped element: a one-line attribute CI shows in its list and
// the whole text as the body.
type Message struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Outcome is how a case ended, in JUnit's terms.
type Outcome int

// The outcomes: a failure is the system under test misbehaving, an error a check that could not
// be judged (never a pass), skipped a check that did not apply or did not run.
const (
	Passed Outcome = iota
	Failed
	Errored
	Skipped
)

// Add appends c to s with the element its outcome calls for, made from m, and counts it. A skipped
// element carries m's one-line message only: nothing failed, so there is no type or body.
func (s *Suite) Add(c Case, o Outcome, m Message) {
	switch o {
	case Passed:
	case Skipped:
		c.Skipped = &Message{Message: m.Message}
		s.Skipped++
	case Failed:
		c.Failure = &m
		s.Failures++
	default:
		c.Error = &m
		s.Errors++
	}
	s.Tests++
	s.Cases = append(s.Cases, c)
}

// MessageMax bounds a message attribute, which CI shows on one line; the whole text is the
// element's body.
const MessageMax = 200

// OneLine is a message attribute: the verdict and, when there is one, the first line of its
// message, cut at MessageMax runes.
func OneLine(verdict, firstLine string) string {
	s := verdict
	if firstLine != "" {
		s += ": " + firstLine
	}
	if r := []rune(s); len(r) > MessageMax {
		s = string(r[:MessageMax]) + "…"
	}
	return s
}

// Seconds is a duration in seconds as JUnit's time attributes have it, to the millisecond.
func Seconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

// Write writes the document: the XML header, the indented suites and a final newline.
func Write(w io.Writer, all Suites) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
