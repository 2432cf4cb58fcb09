package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/aruntime/arcert/conformance/report"
)

// Expectations is the declarative file (deploy/ollama/expect.yaml): what a correct harness must
// conclude about a runtime whose behaviour is known, configuration by configuration.
type Expectations struct {
	// NoPassWithoutSamples holds every report to: a PASS rests on at least one judged sample.
	NoPassWithoutSamples bool            `yaml:"no_pass_without_samples"`
	Configurations       []Configuration `yaml:"configurations"`
}

// Configuration is one certified set-up and the verdicts expected of its report.
type Configuration struct {
	Name string `yaml:"name"`
	// Report is the report.json path, relative to the directory given with -dir.
	Report       string   `yaml:"report"`
	Requirements []Expect `yaml:"requirements"`
}

// Expect is one expected verdict: the requirement's result Is one result, or is Not one.
type Expect struct {
	Requirement string        `yaml:"requirement"`
	Is          report.Result `yaml:"is"`
	Not         report.Result `yaml:"not"`
	// Why is the runtime behaviour that makes the verdict certain; printed when it is not met.
	Why string `yaml:"why"`
}

var results = []report.Result{report.Pass, report.Fail, report.NotSupported, report.Inconclusive, report.Invalid, report.NotRun}

// loadExpectations reads and checks an expectations file: unknown fields, a missing report or
// an expectation that is neither is nor not are mistakes in the file, reported before any report
// is read.
func loadExpectations(path string) (*Expectations, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var e Expectations
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var errs []error
	if len(e.Configurations) == 0 {
		errs = append(errs, errors.New("no configurations"))
	}
	for _, c := range e.Configurations {
		if c.Name == "" || c.Report == "" {
			errs = append(errs, fmt.Errorf("a configuration needs a name and a report (got %q, %q)", c.Name, c.Report))
		}
		for _, x := range c.Requirements {
			switch {
			case x.Requirement == "":
				errs = append(errs, fmt.Errorf("%s: an expectation names no requirement", c.Name))
			case (x.Is == "") == (x.Not == ""):
				errs = append(errs, fmt.Errorf("%s %s: give exactly one of is and not", c.Name, x.Requirement))
			case !slices.Contains(results, x.Is+x.Not):
				errs = append(errs, fmt.Errorf("%s %s: %q is not a result (%v)", c.Name, x.Requirement, x.Is+x.Not, results))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}

// met says whether got satisfies x, and the expectation in words.
func (x Expect) met(got report.Result) (bool, string) {
	if x.Is != "" {
		return got == x.Is, "is " + string(x.Is)
	}
	return got != x.Not, "not " + string(x.Not)
}
