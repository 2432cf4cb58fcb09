package catalog

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var idPattern = regexp.MustCompile(`^[A-Z]{2,4}-[0-9]+$`)

// TestCatalogIsWellFormed: unique ids, known levels and profiles, and every quote really is on
// the guidance line it names.
func TestCatalogIsWellFormed(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range c.Requirements {
		if !idPattern.MatchString(r.ID) || seen[r.ID] {
			t.Errorf("%s: id malformed or repeated", r.ID)
		}
		seen[r.ID] = true
		if r.Level != Must && r.Level != Should {
			t.Errorf("%s: level %q", r.ID, r.Level)
		}
		if _, err := c.Profile(r.Profile); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		if r.Feature == "" || r.Title == "" || r.Check == "" {
			t.Errorf("%s: feature, title and check are required", r.ID)
		}
		for _, tr := range r.Traces() {
			line, ok := GuidanceLine(tr.Line)
			if !ok || !strings.Contains(line, tr.Quote) || tr.Quote == "" {
				t.Errorf("%s: %q is not on guidance line %d (%q)", r.ID, tr.Quote, tr.Line, line)
			}
		}
	}
	if len(c.Requirements) < 30 {
		t.Errorf("only %d requirements", len(c.Requirements))
	}
	features := map[string]bool{}
	for _, r := range c.Requirements {
		features[r.Feature] = true
	}
	for _, r := range c.Requirements {
		for _, f := range r.JudgedWith {
			if !features[f] || f == r.Feature {
				t.Errorf("%s: judged_with %q is not another requirement's feature", r.ID, f)
			}
		}
	}
}

// TestEveryGuidanceStatementIsCovered: each line of the certified sections is answered by at
// least one requirement (suites' TestEveryMustHasASpec checks that one of them has a spec).
func TestEveryGuidanceStatementIsCovered(t *testing.T) {
	c := MustLoad()
	covered := map[int]bool{}
	for _, r := range c.Requirements {
		for _, tr := range r.Traces() {
			covered[tr.Line] = true
		}
	}
	for _, section := range CertifiedSections {
		lines := SectionLines(section)
		if len(lines) == 0 {
			t.Errorf("the guidance has no section %q", section)
		}
		for _, n := range lines {
			if !covered[n] {
				line, _ := GuidanceLine(n)
				t.Errorf("guidance line %d (%s) has no requirement: %q", n, section, line)
			}
		}
	}
}

// TestSectionLines pins the sections to the guidance as it stands, so a heading the parser missed
// cannot shrink what TestEveryGuidanceStatementIsCovered demands.
func TestSectionLines(t *testing.T) {
	want := map[string][]int{
		"Patterns":                          {7, 8, 9, 10, 11},
		"Failure and fallback":              {22},
		"Implementation checklist":          {24, 25, 26, 27, 28},
		"Control and tenancy boundaries":    {30, 31},
		"Overload and multi-tenant failure": {33, 34, 35, 36, 37, 38},
		"no such heading":                   nil,
	}
	for section, lines := range want {
		if got := SectionLines(section); !slices.Equal(got, lines) {
			t.Errorf("SectionLines(%q) = %v, want %v", section, got, lines)
		}
	}
}

// TestGuidanceCopyIsVerbatim compares the embedded copy with shared/ where it is beside the
// repository (on developers' machines and in CI).
func TestGuidanceCopyIsVerbatim(t *testing.T) {
	shared, err := os.ReadFile("../../../shared/guidance/cloud-and-data-center-runtimes.txt")
	if os.IsNotExist(err) {
		t.Skip("shared/ is not beside this checkout; the embedded copy cannot be compared")
	}
	if err != nil {
		t.Fatal(err)
	}
	if string(shared) != Guidance {
		t.Fatal("conformance/catalog/guidance.txt differs from shared/guidance: copy it again and re-check the quotes")
	}
}

// TestEveryRequirementListsItsPaths: the paths a rule applies to are part of the requirement, so
// a PASS can say which it judged and the report can refuse one that left a path out.
func TestEveryRequirementListsItsPaths(t *testing.T) {
	for _, r := range MustLoad().Requirements {
		if len(r.Paths) == 0 {
			t.Errorf("%s lists no paths", r.ID)
		}
	}
}
