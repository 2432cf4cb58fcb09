package suites

import (
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/aruntime/arcert/conformance/catalog"
)

// TestEveryMustHasASpec walks the spec tree without running it (a Ginkgo dry run) and fails when
// a MUST requirement of an implemented profile has no spec labelled req:<ID>, a spec names a
// requirement the catalogue does not have, or a line of a certified guidance section is answered
// by no requirement with a spec. Pending specs do not count.
func TestEveryMustHasASpec(t *testing.T) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	var rep types.Report
	ginkgo.ReportAfterSuite("collect", func(r ginkgo.Report) { rep = r })
	suiteCfg, reporterCfg := ginkgo.GinkgoConfiguration()
	suiteCfg.DryRun = true
	reporterCfg.Succinct = true
	ginkgo.RunSpecs(t, "arcert dry run", suiteCfg, reporterCfg)

	c := catalog.MustLoad()
	labelled := map[string]int{}
	for _, s := range rep.SpecReports {
		// A pending spec (PIt, or an It marked Pending) runs nothing, so it answers no requirement.
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStatePending {
			continue
		}
		ids := 0
		for _, l := range s.Labels() {
			if id, ok := strings.CutPrefix(l, "req:"); ok {
				ids++
				labelled[id]++
				if _, err := c.Requirement(id); err != nil {
					t.Errorf("spec %q: %v", s.FullText(), err)
				}
			}
		}
		if ids == 0 {
			t.Errorf("spec %q checks no requirement", s.FullText())
		}
	}
	for _, p := range c.Profiles {
		if !p.Implemented() {
			continue
		}
		for _, q := range c.InProfiles(p.Name) {
			if q.Level == catalog.Must && labelled[q.ID] == 0 {
				t.Errorf("MUST requirement %s (%s) has no spec labelled req:%s", q.ID, q.Title, q.ID)
			}
		}
	}
	if len(labelled) < 20 {
		t.Errorf("only %d requirements have specs", len(labelled))
	}
	for _, section := range catalog.CertifiedSections {
		for _, n := range catalog.SectionLines(section) {
			if !lineHasASpec(c, labelled, n) {
				line, _ := catalog.GuidanceLine(n)
				t.Errorf("guidance line %d (%s) is answered by no requirement with a spec: %q", n, section, line)
			}
		}
	}
}

// lineHasASpec reports whether a requirement that traces to guidance line n has a spec.
func lineHasASpec(c *catalog.Catalog, labelled map[string]int, n int) bool {
	for _, r := range c.Requirements {
		if labelled[r.ID] == 0 {
			continue
		}
		for _, tr := range r.Traces() {
			if tr.Line == n {
				return true
			}
		}
	}
	return false
}

func TestLabelFilter(t *testing.T) {
	c := catalog.MustLoad()
	all := func(string) bool { return true }
	f, err := LabelFilter(c, []string{"core"}, all, nil)
	if err != nil || f != "(profile:core)" {
		t.Fatalf("filter %q, %v", f, err)
	}
	f, err = LabelFilter(c, []string{"core"}, func(feat string) bool { return feat != "prefix-cache" }, []string{"TEN-2"})
	if err != nil || !strings.Contains(f, "!(feature:prefix-cache") || !strings.Contains(f, "(req:TEN-2)") {
		t.Fatalf("filter %q, %v", f, err)
	}
	// Every profile is implemented now; a copy of the catalogue with one marked planned shows a
	// planned profile is still refused rather than certified by no specs.
	planned := *c
	planned.Profiles = slices.Clone(c.Profiles)
	for i := range planned.Profiles {
		if planned.Profiles[i].Name == "resilience" {
			planned.Profiles[i].Status = "planned"
		}
	}
	if _, err := LabelFilter(&planned, []string{"resilience"}, all, nil); err == nil {
		t.Fatal("a planned profile was accepted")
	}
	if _, err := LabelFilter(c, []string{"core"}, all, []string{"NOPE-1"}); err == nil {
		t.Fatal("an unknown focus was accepted")
	}
}
