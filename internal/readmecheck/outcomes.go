package readmecheck

import (
	"regexp"
	"strings"
)

// Outcome is one outcome a command block's output stated, as class/reason.
type Outcome struct {
	Class, Reason string
}

func (o Outcome) String() string { return o.Class + "/" + o.Reason }

// Refusal reports whether the outcome is one a user would not want to see: anything but served.
func (o Outcome) Refusal() bool {
	switch o.Class {
	case "completed", "rerouted", "degraded":
		return false
	}
	return true
}

var (
	// headerRE finds the outcome headers of a response (curl -i or a header dump).
	headerRE = regexp.MustCompile(`(?im)^ARuntime-Outcome(-Reason)?:\s*([a-z_]+)\s*$`)
	// probeRE finds the outcome `arcert probe` prints.
	probeRE = regexp.MustCompile(`"outcome"\s*:\s*"([a-z_]+)"(?:[^{}]*?"reason"\s*:\s*"([a-z_]*)")?`)
	// bodyRE finds the outcome a completion body or a stream's final event carries.
	bodyRE = regexp.MustCompile(`"aruntime_outcome"\s*:\s*\{\s*"class"\s*:\s*"([a-z_]+)"\s*,\s*"reason"\s*:\s*"([a-z_]*)"`)
)

// Headers returns the outcomes of a dump of response headers, one per ARuntime-Outcome header,
// each with the reason header that follows it.
func Headers(dump string) []Outcome {
	var out []Outcome
	for _, m := range headerRE.FindAllStringSubmatch(dump, -1) {
		switch {
		case m[1] == "":
			out = append(out, Outcome{Class: strings.ToLower(m[2])})
		case len(out) > 0 && out[len(out)-1].Reason == "":
			out[len(out)-1].Reason = strings.ToLower(m[2])
		}
	}
	return out
}

// Output returns the outcomes a block printed in JSON: probe results and response bodies.
func Output(stdout string) []Outcome {
	var out []Outcome
	for _, m := range probeRE.FindAllStringSubmatch(stdout, -1) {
		out = append(out, Outcome{Class: m[1], Reason: m[2]})
	}
	for _, m := range bodyRE.FindAllStringSubmatch(stdout, -1) {
		out = append(out, Outcome{Class: m[1], Reason: m[2]})
	}
	return out
}
