package report

import (
	"slices"
	"strings"
	"time"

	"github.com/aruntime/arcert/conformance/catalog"
)

// Inputs is everything Compute needs: what was selected, what the target declares, and what the
// specs recorded.
type Inputs struct {
	Catalog  *catalog.Catalog
	Profiles []string
	// Focus, when set, narrows the report to these requirement ids: a focused run claims nothing
	// about the others.
	Focus          []string
	Declares       func(feature string) bool
	Specs          []SpecRecord
	Implementation string
	HarnessVersion string
	Target         Target
	Seed           int64
	// Nonce is the word mixed into every prompt of the run; with Seed it resends the same prompts.
	Nonce    string
	Started  time.Time
	Duration time.Duration
	// Unsupported names profiles the run could not exercise at all, with the reason (no Docker
	// engine for a containerized deployment, say): their requirements are NOT_SUPPORTED.
	Unsupported map[string]string
	// Excluded names requirements, by id, whose feature the target declares but whose judgement
	// needs a field it leaves out (conformance/plan): NOT_SUPPORTED, with that reason.
	Excluded map[string]string
}

// Compute judges every requirement of the selected profiles from the spec records.
func Compute(in Inputs) *Report {
	r := &Report{
		SchemaVersion: SchemaVersion, Implementation: in.Implementation, HarnessVersion: in.HarnessVersion,
		Target: in.Target, Seed: in.Seed, Nonce: in.Nonce, Started: in.Started.UTC(), DurationSecs: in.Duration.Seconds(),
		Counts: map[Result]int{},
	}
	seen := map[string]bool{}
	for _, q := range in.Catalog.InProfiles(in.Profiles...) {
		if (len(in.Focus) > 0 && !slices.Contains(in.Focus, q.ID)) || seen[q.ID] {
			continue // one row per requirement, however often it was selected
		}
		seen[q.ID] = true
		rq := judge(q, in.Declares(q.Feature), in.Specs)
		if why, ok := in.Unsupported[q.Profile]; ok {
			rq.Result, rq.Message = NotSupported, why
		}
		if why, ok := in.Excluded[q.ID]; ok && rq.Result == NotRun {
			rq.Result, rq.Message, rq.Note, rq.Unjudged = NotSupported, why, why, true
		}
		r.Requirements = append(r.Requirements, rq)
		r.Counts[rq.Result]++
	}
	for _, p := range in.Profiles {
		if !slices.ContainsFunc(r.Profiles, func(x ProfileResult) bool { return x.Name == p }) {
			r.Profiles = append(r.Profiles, profileResult(p, r.Requirements))
		}
	}
	return r
}

// judge decides one requirement: any failed spec fails it; otherwise a declared INVALID or
// INCONCLUSIVE wins over a pass; a requirement with no spec run is NOT_SUPPORTED when its feature
// is not declared and NOT_RUN otherwise.
func judge(q catalog.Requirement, declared bool, specs []SpecRecord) Requirement {
	rq := Requirement{ID: q.ID, Level: q.Level, Profile: q.Profile, Feature: q.Feature, Title: q.Title, Evidence: []string{}, Specs: []string{}}
	ran, failed, invalid, inconclusive := 0, false, false, false
	conclusion := "" // the last line of evidence: specs record their conclusion after what led to it
	var took time.Duration
	failNote := "" // a failure's note is one sentence for people; its message keeps the whole text
	skipped := ""  // why a selected spec of the requirement did not run, when Ginkgo said
	for _, s := range specs {
		if s.State == SpecSkipped && s.Message != "" && slices.Contains(s.Requirements, q.ID) {
			skipped = s.Message
		}
		if !slices.Contains(s.Requirements, q.ID) || s.State == SpecSkipped {
			continue
		}
		ran++
		took += s.Duration
		rq.Specs = append(rq.Specs, s.Name)
		rq.Evidence = append(rq.Evidence, s.Evidence...)
		if len(s.Evidence) > 0 {
			conclusion = s.Evidence[len(s.Evidence)-1]
		}
		rq.Faults = append(rq.Faults, s.Faults...)
		rq.Plots = append(rq.Plots, s.Plots...)
		rq.Samples, rq.Unprobed = mergeCounts(q.ID, rq.Samples, s.Samples), mergeReasons(rq.Unprobed, s.Unprobed)
		switch {
		case s.State == SpecFailed:
			failed = true
			rq.Message, failNote = s.Message, Condense(s.Message, s.Location)
		case s.Verdict == Invalid:
			invalid = true
			if !failed {
				rq.Message = s.Message
			}
		case s.Verdict == Inconclusive:
			inconclusive = true
			if !failed && !invalid {
				rq.Message = s.Message
			}
		}
	}
	switch {
	case !declared:
		rq.Result, rq.Message = NotSupported, "the target does not declare feature "+q.Feature
	case ran == 0 && skipped != "":
		rq.Result, rq.Message = NotRun, "its spec was selected but did not run: "+skipped
	case ran == 0:
		rq.Result, rq.Message = NotRun, "no spec for this requirement was selected"
	case failed:
		rq.Result = Fail
	case invalid:
		rq.Result = Invalid
	case inconclusive:
		rq.Result = Inconclusive
	default:
		rq.Result, rq.Message = weigh(q, rq.Samples, rq.Unprobed)
	}
	if rq.Result == Pass {
		rq.Basis = basisOf(rq.Samples)
	}
	rq.DurationSecs = took.Seconds()
	rq.Note = firstLine(rq.Message)
	if rq.Result == Fail {
		rq.Note = failNote
	}
	if rq.Result == Pass {
		// A PASS's message lists every path it judged: too long for a note. The spec's conclusion
		// says what was found; without one, the count of what was judged says what it rests on.
		switch {
		case conclusion != "":
			rq.Note = firstLine(conclusion)
		case rq.SamplesJudged() != "":
			rq.Note = rq.SamplesJudged()
		}
	}
	return rq
}

// firstLine is s up to its first line break: a note is one line, the full text stays in the
// message.
func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func profileResult(name string, reqs []Requirement) ProfileResult {
	p := ProfileResult{Name: name, Result: "success"}
	for _, q := range reqs {
		if q.Profile != name {
			continue
		}
		p.Total++
		pass, unsupported := q.Result == Pass, q.Result == NotSupported
		if pass {
			p.Pass++
		}
		if q.Level == catalog.Must {
			p.MustTotal++
			p.MustPass += count(pass)
			p.MustUnsupported += count(unsupported)
			switch {
			case !pass && !unsupported:
				p.Result = "failure"
			case unsupported && q.Unjudged && p.Result == "success":
				p.Result = "incomplete"
			}
			continue
		}
		p.ShouldTotal++
		p.ShouldPass += count(pass)
		p.ShouldUnsupported += count(unsupported)
	}
	if p.Total == 0 {
		p.Result = "not_run" // nothing of the profile was selected: nothing is claimed
	}
	return p
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
