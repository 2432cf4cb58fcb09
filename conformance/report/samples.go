package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aruntime/arcert/conformance/catalog"
)

// weigh decides what the specs of a requirement that all passed have shown. A PASS must rest on
// samples: at least the requirement's minimum, on every path the catalogue lists for it, unless a
// spec said why it could not probe one. Anything less is INVALID, never PASS: a spec that judged
// nothing, or only the path next to the bug, proves nothing. The PASS message says what was judged.
// Samples on DeclarationPath count, but they were read from the target file: basisOf labels a
// PASS that rests on them.
func weigh(q catalog.Requirement, samples map[string]int, unprobed map[string]string) (Result, string) {
	total := 0
	for _, n := range samples {
		total += n
	}
	for p := range samples {
		if !slices.ContainsFunc(q.Paths, func(c string) bool { return pathMatches(p, c) }) && len(q.Paths) > 0 {
			return Invalid, fmt.Sprintf("a spec judged path %q, which the catalogue does not list for %s (a harness defect)", p, q.ID)
		}
	}
	var missing []string
	for _, c := range q.Paths {
		if _, why := unprobed[c]; why {
			continue
		}
		if !slices.ContainsFunc(slices.Collect(maps.Keys(samples)), func(p string) bool { return pathMatches(p, c) }) {
			missing = append(missing, c)
		}
	}
	for p := range unprobed {
		if slices.ContainsFunc(slices.Collect(maps.Keys(samples)), func(j string) bool { return pathMatches(j, p) }) {
			delete(unprobed, p) // another spec probed it
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("no sample judged on %s, and no spec said why: %s", plural(len(missing), "path"), strings.Join(missing, ", "))
		if parts := narrowedReasons(missing, unprobed); parts != "" {
			// A spec explained some of the path (one class, one tenant), not all of it.
			msg = fmt.Sprintf("no sample judged on %s: %s", strings.Join(missing, ", "), parts)
		}
		return Invalid, msg
	}
	if total == 0 {
		// Every spec passed and every path was explained away, or none is listed: nothing was looked at,
		// whatever the catalogue lists. A PASS from nothing is a harness defect, shown as one.
		return Invalid, fmt.Sprintf("its specs passed but judged no sample: a PASS from nothing is a harness defect, not a result (%s needs at least %d)", q.ID, q.Needs())
	}
	if total < q.Needs() {
		return Invalid, fmt.Sprintf("only %s judged; a PASS needs at least %d", plural(total, "sample"), q.Needs())
	}
	return Pass, describeSamples(total, samples, unprobed)
}

// pathMatches reports whether a judged path counts for catalogue path c: the same name, or c
// narrowed by a qualifier ("tenant:acme" counts for "tenant").
func pathMatches(judged, c string) bool {
	return judged == c || strings.HasPrefix(judged, c+":")
}

// describeSamples is the PASS message: how many samples on which paths, and what was not probed.
func describeSamples(total int, samples map[string]int, unprobed map[string]string) string {
	var b strings.Builder
	// A request counts once on each path it took (its wire and its tenant, say), so the total
	// counts path samples, not requests; the message says so.
	fmt.Fprintf(&b, "judged %s on %s (a request counts on each path it took): ", plural(total, "sample"), plural(len(samples), "path"))
	for i, p := range slices.Sorted(maps.Keys(samples)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", p, samples[p])
	}
	if len(unprobed) > 0 {
		b.WriteString("; not probed: ")
		for i, p := range slices.Sorted(maps.Keys(unprobed)) {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s (%s)", p, unprobed[p])
		}
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// mergeCounts adds the samples a spec judged for requirement id to into.
func mergeCounts(id string, into, from map[string]int) map[string]int {
	for k, v := range from {
		if req, path, one := strings.Cut(k, ForRequirement); one {
			if req != id {
				continue
			}
			k = path
		}
		if into == nil {
			into = map[string]int{}
		}
		into[k] += v
	}
	return into
}

func mergeReasons(into, from map[string]string) map[string]string {
	if len(from) == 0 {
		return into
	}
	if into == nil {
		into = map[string]string{}
	}
	maps.Copy(into, from)
	return into
}

// SamplesJudged says briefly what a requirement's PASS rests on: "judged 42 samples on 3 paths";
// "" when it recorded none.
func (q Requirement) SamplesJudged() string {
	total := 0
	for _, n := range q.Samples {
		total += n
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("judged %s on %s", plural(total, "sample"), plural(len(q.Samples), "path"))
}

// DeclarationPath is the path of a sample read from the target file rather than measured on the
// runtime: a field the record must state, checked as stated.
const DeclarationPath = "declaration"

// Basis says what a PASS rests on.
type Basis string

// The bases of a PASS.
const (
	// Measured: every sample was measured on the runtime.
	Measured Basis = "measured"
	// Declared: every sample was read from the target file; nothing of the runtime was observed.
	Declared Basis = "declaration"
	// MeasuredAndDeclared: part measured, part read from the target file.
	MeasuredAndDeclared Basis = "measured+declaration"
)

// basisOf is what samples rest on; "" when there are none.
func basisOf(samples map[string]int) Basis {
	declared, measured := false, false
	for p, n := range samples {
		switch {
		case n <= 0:
		case pathMatches(p, DeclarationPath):
			declared = true
		default:
			measured = true
		}
	}
	switch {
	case declared && measured:
		return MeasuredAndDeclared
	case declared:
		return Declared
	case measured:
		return Measured
	}
	return ""
}

// Label says in words what a PASS rests on, for every format that shows a result: "" for a
// measured one, which is what a PASS means unless told otherwise.
func (b Basis) Label() string {
	switch b {
	case Declared:
		return "checked from the declaration only: nothing of the runtime was observed"
	case MeasuredAndDeclared:
		return "measured, and partly checked from the declaration"
	}
	return ""
}

// BasisLabel is Basis.Label of the requirement's PASS; "" for any other result.
func (q Requirement) BasisLabel() string {
	if q.Result != Pass {
		return ""
	}
	return q.Basis.Label()
}

// narrowedReasons lists the reasons specs gave for parts of the missing paths ("class:batch: nothing
// was shed"), so an INVALID says what kept each part from being judged.
func narrowedReasons(missing []string, unprobed map[string]string) string {
	var parts []string
	for _, p := range slices.Sorted(maps.Keys(unprobed)) {
		if slices.ContainsFunc(missing, func(c string) bool { return pathMatches(p, c) }) {
			parts = append(parts, p+" not probed: "+unprobed[p])
		}
	}
	return strings.Join(parts, "; ")
}
