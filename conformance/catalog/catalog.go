// Package catalog is the requirement catalogue: every requirement arcert certifies, with its
// level, profile, the feature that gates it and the guidance line it comes from. It is data, so
// the list is at once the documentation, the report's key and what `arcert catalog` prints; every
// Ginkgo spec names the requirement it checks with Label("req:ID").
package catalog

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Level is how binding a requirement is.
type Level string

// The levels, as RFC 2119 uses them.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Requirement is one catalogue entry.
type Requirement struct {
	ID      string `yaml:"id" json:"id"`
	Level   Level  `yaml:"level" json:"level"`
	Profile string `yaml:"profile" json:"profile"`
	// Feature gates the requirement: a target that does not declare it gets NOT_SUPPORTED.
	Feature string `yaml:"feature" json:"feature"`
	// Line is the line of the guidance the requirement comes from; Quote its words there.
	Line  int    `yaml:"line" json:"guidance_line"`
	Quote string `yaml:"quote" json:"guidance_quote"`
	// Also are further guidance lines the requirement's spec tests, where one check answers more
	// than one line (worker loss survived is what the "Model-serving clusters" pattern asks too).
	Also  []Trace `yaml:"also,omitempty" json:"also_traces,omitempty"`
	Title string  `yaml:"title" json:"title"`
	Check string  `yaml:"check" json:"check"`
	// Paths are the ways a client can reach the rule (a transport, class, tenant, operator
	// endpoint, request field, quota kind, the refusal as well as the success): a bug on the path
	// next to the one probed is still a bug, so each spec records how many samples it judged on
	// each path, or says why it could not probe one. A requirement that lists paths is not passed
	// while one of them is neither probed nor explained (see conformance/report).
	Paths []string `yaml:"paths,omitempty" json:"paths,omitempty"`
	// MinSamples is the fewest samples a PASS may rest on, summed over its paths (default 1): a
	// PASS from fewer is INVALID. A request counts once on each path it took (its wire and its
	// tenant, say), so the figure counts path samples, not requests.
	MinSamples int `yaml:"min_samples,omitempty" json:"min_samples,omitempty"`
	// JudgedWith are the other features the judgement reads through (TEN-1 sees who a request
	// was bound to only in its evidence record). A target that declares Feature but not these
	// cannot have the requirement judged: the plan says NOT_SUPPORTED and `target validate`
	// rejects the combination, so a verdict is never about a missing endpoint.
	JudgedWith []string `yaml:"judged_with,omitempty" json:"judged_with,omitempty"`
	// Contract marks a requirement about what only the stated outcome contract carries (the
	// outcome at a stream's end, the status table, where work was served). Against a runtime
	// whose outcomes are inferred it is NOT_SUPPORTED: the missing contract is OUT-1's one finding,
	// not a failure repeated in every requirement that reads it.
	Contract bool `yaml:"contract,omitempty" json:"contract,omitempty"`
}

// Trace is a guidance line and the words of it a requirement answers.
type Trace struct {
	Line  int    `yaml:"line" json:"guidance_line"`
	Quote string `yaml:"quote" json:"guidance_quote"`
}

// Traces are every guidance line r answers: its own, then the ones under Also.
func (r Requirement) Traces() []Trace {
	return append([]Trace{{Line: r.Line, Quote: r.Quote}}, r.Also...)
}

// Needs returns the fewest samples a PASS of r may rest on.
func (r Requirement) Needs() int { return max(r.MinSamples, 1) }

// Profile groups requirements that are certified together.
type Profile struct {
	Name string `yaml:"name" json:"name"`
	// Status is "implemented" when the profile has suites, "planned" when not yet.
	Status string `yaml:"status" json:"status"`
	Doc    string `yaml:"doc" json:"doc"`
}

// Implemented reports whether the profile's suites exist.
func (p Profile) Implemented() bool { return p.Status == "implemented" }

// Catalog is the whole catalogue.
type Catalog struct {
	Profiles     []Profile     `yaml:"profiles" json:"profiles"`
	Requirements []Requirement `yaml:"requirements" json:"requirements"`
}

//go:embed catalog.yaml
var catalogYAML []byte

// Guidance is the guidance text the catalogue traces to, a verbatim copy of
// shared/guidance/cloud-and-data-center-runtimes.txt.
//
//go:embed guidance.txt
var Guidance string

// ErrUnknown is returned for a requirement or profile the catalogue does not have.
var ErrUnknown = errors.New("catalog: unknown")

// Load parses the embedded catalogue. It cannot fail at run time unless the binary was built from
// a broken catalogue, which the package's tests refuse.
func Load() (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(strings.NewReader(string(catalogYAML)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return &c, nil
}

// loaded parses the embedded catalogue once per process.
var loaded = sync.OnceValues(Load)

// MustLoad returns the embedded catalogue, parsed once. It is for program start-up, where a broken
// embedded catalogue is a build defect; callers must not modify what it returns.
func MustLoad() *Catalog {
	c, err := loaded()
	if err != nil {
		panic(err)
	}
	return c
}

// Requirement returns the requirement with id.
func (c *Catalog) Requirement(id string) (Requirement, error) {
	for _, r := range c.Requirements {
		if r.ID == id {
			return r, nil
		}
	}
	return Requirement{}, fmt.Errorf("%w requirement %q", ErrUnknown, id)
}

// Profile returns the profile with name.
func (c *Catalog) Profile(name string) (Profile, error) {
	for _, p := range c.Profiles {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, 0, len(c.Profiles))
	for _, p := range c.Profiles {
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("%w profile %q (have %s)", ErrUnknown, name, strings.Join(names, ", "))
}

// InProfiles returns the requirements of the named profiles, in catalogue order.
func (c *Catalog) InProfiles(names ...string) []Requirement {
	var out []Requirement
	for _, r := range c.Requirements {
		if slices.Contains(names, r.Profile) {
			out = append(out, r)
		}
	}
	return out
}

// GuidanceLine returns line n (1-based) of the guidance.
func GuidanceLine(n int) (string, bool) {
	lines := strings.Split(Guidance, "\n")
	if n < 1 || n > len(lines) {
		return "", false
	}
	return lines[n-1], true
}

// headings are the guidance's section headings, each on a line of its own.
var headings = []string{"Key takeaways", "Patterns", "Placement decision", "Failure and fallback",
	"Implementation checklist", "Control and tenancy boundaries", "Overload and multi-tenant failure"}

// CertifiedSections are the guidance sections whose every line must be answered by a requirement
// with a spec: what a runtime does. The key takeaways and the placement questions are recorded in
// the target file (QUO-4, DOC-1) rather than each tested.
var CertifiedSections = []string{"Patterns", "Failure and fallback", "Implementation checklist",
	"Control and tenancy boundaries", "Overload and multi-tenant failure"}

// SectionLines returns the numbers (1-based) of the non-empty lines under heading, up to the next
// heading; none when the guidance has no such heading.
func SectionLines(heading string) []int {
	var out []int
	in := false
	for i, line := range strings.Split(Guidance, "\n") {
		switch {
		case slices.Contains(headings, line):
			in = line == heading
		case in && strings.TrimSpace(line) != "":
			out = append(out, i+1)
		}
	}
	return out
}
