// Package yamlschema reads a YAML file people write by hand (a target file, a game-day
// scenario): it checks the file against a JSON Schema embedded in the package that owns the
// format, decodes it, and says every mistake as FILE:LINE: field: message, located with
// internal/yamlpos. One reader serves every such format so they report alike; each format keeps
// its own exported Problem type, defined from Problem, whose Unwrap names the format's own
// sentinel error.
package yamlschema

import (
	"errors"
	"fmt"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/aruntime/arcert/internal/yamlpos"
)

// Problem is one mistake in a file, located by line (0 when unknown) and field path (empty for
// the file as a whole). The formats' own Problem types are defined from it (type Problem
// yamlschema.Problem), so a *Problem converts to theirs and back.
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error says the problem as FILE:LINE: field: message, leaving out what is unknown.
func (p *Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	if p.Field != "" {
		return loc + ": " + p.Field + ": " + p.Msg
	}
	return loc + ": " + p.Msg
}

// Join joins problems into one error, each made the caller's own error by own (typically a
// pointer conversion to the format's Problem type, whose Unwrap names the format's sentinel).
func Join(probs []*Problem, own func(*Problem) error) error {
	errs := make([]error, len(probs))
	for i, p := range probs {
		errs[i] = own(p)
	}
	return errors.Join(errs...)
}

// Locate names the file in each problem, finds the line of those without one from its field in
// root (nil when the file did not parse), orders them by line and keeps the first
// yamlpos.MaxReported, with one more problem counting the rest.
func Locate(name string, root *yaml.Node, probs []*Problem) []*Problem {
	for _, p := range probs {
		p.File = name
		if p.Line == 0 && root != nil {
			p.Line = yamlpos.Line(root, p.Field)
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	shown, omitted := yamlpos.Capped(len(probs))
	out := probs[:shown:shown]
	if omitted > 0 {
		out = append(out, &Problem{File: name, Msg: fmt.Sprintf("and %d more mistakes", omitted)})
	}
	return out
}

// fromYAML turns the YAML library's error into located problems, each once, in the library's
// order.
func fromYAML(name string, err error, src yamlpos.Source) []*Problem {
	msgs := yamlpos.Messages(err, src)
	out := make([]*Problem, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, &Problem{File: name, Line: m.Line, Field: m.Field, Msg: m.Text})
	}
	return out
}
