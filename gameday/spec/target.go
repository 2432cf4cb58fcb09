package spec

import (
	"fmt"
	"path/filepath"

	"github.com/aruntime/arcert/conformance/target"
	"github.com/aruntime/arcert/fixtures/targets"
	"github.com/aruntime/arcert/internal/yamlpos"
)

// TargetKind says where a day's target comes from.
type TargetKind string

// Target kinds: a target file, the embedded reference runtime, the containerized one.
const (
	TargetFile       TargetKind = "file"
	TargetEmbedded   TargetKind = "embedded"
	TargetContainers TargetKind = "containers"
)

// TargetChoice is the target a day runs against: Path is set for TargetFile.
type TargetChoice struct {
	Kind TargetKind
	Path string
}

// TargetChoice is the target the file names, a file's path resolved from the scenario file's
// directory (so a scenario and its target move together). The command line's --embedded,
// --containers or --target override it.
func (f *File) TargetChoice() TargetChoice {
	switch t := f.Spec.Target; {
	case t.Embedded:
		return TargetChoice{Kind: TargetEmbedded}
	case t.Containers:
		return TargetChoice{Kind: TargetContainers}
	case filepath.IsAbs(t.File):
		return TargetChoice{Kind: TargetFile, Path: t.File}
	default:
		return TargetChoice{Kind: TargetFile, Path: filepath.Join(filepath.Dir(f.Source), t.File)}
	}
}

// Load reads the chosen target file: the embedded and containers targets are the reference's
// own (fixtures/targets), embedded in the binary; their endpoints are the runner's to replace.
func (c TargetChoice) Load() (*target.Target, error) {
	switch c.Kind {
	case TargetEmbedded:
		return target.Parse(targets.ReferenceName, targets.ReferenceYAML)
	case TargetContainers:
		return target.Parse(targets.ContainersName, targets.ContainersYAML)
	case TargetFile:
		return target.Load(c.Path)
	}
	return nil, fmt.Errorf("gameday: unknown target kind %q", c.Kind)
}

// Validate lists every mistake of the scenario file at path, for `arcert gameday validate`: the
// file's own, then (when it has none) those of compiling it against its target, or against
// override when not nil. A target that cannot be read is one more mistake. Nil means valid.
func Validate(path string, override *TargetChoice) []error {
	f, err := Load(path)
	if err != nil {
		return asList(err)
	}
	choice := f.TargetChoice()
	if override != nil {
		choice = *override
	}
	t, err := choice.Load()
	if err != nil {
		at := &Problem{File: path, Line: yamlpos.Line(f.root, "spec.target"), Field: "spec.target"}
		if errs := asList(err); len(errs) > 1 {
			at.Msg = fmt.Sprintf("the target has %d mistakes:", len(errs))
			return append([]error{at}, errs...)
		}
		at.Msg = err.Error()
		return []error{at}
	}
	if _, err := f.Plan(t); err != nil {
		return asList(err)
	}
	return nil
}

// asList is a joined error's parts, or the error alone.
func asList(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
