package spec

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/aruntime/arcert/internal/yamlpos"
)

// ErrInvalid is wrapped by every error that is the scenario file's fault (as opposed to an
// unreadable file or a broken harness).
var ErrInvalid = errors.New("gameday: invalid scenario")

// Problem is one mistake in a scenario file, located by line and field path.
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
}

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

// Unwrap makes every Problem an ErrInvalid.
func (p *Problem) Unwrap() error { return ErrInvalid }

// Problems lists the mistakes an error of Parse, Load or Plan reports, one per line in file
// order, for `arcert gameday validate`; nil when err reports none (nil, or not the file's fault).
func Problems(err error) []*Problem {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Problem
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	var p *Problem
	if errors.As(err, &p) {
		return []*Problem{p}
	}
	return nil
}

// yamlProblem turns the YAML library's errors into located problems, each once.
func yamlProblem(name string, err error, src yamlpos.Source) error {
	msgs := yamlpos.Messages(err, src)
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, &Problem{File: name, Line: m.Line, Field: m.Field, Msg: m.Text})
	}
	return errors.Join(out...)
}

var printer = message.NewPrinter(language.English)

// leaves flattens a validation error tree into its most specific problems.
func leaves(ve *jsonschema.ValidationError) []*Problem {
	if len(ve.Causes) == 0 {
		field := fieldPath(ve.InstanceLocation)
		if ap, ok := ve.ErrorKind.(*kind.AdditionalProperties); ok {
			// Point at each unknown key's own line, not at the mapping that holds it.
			out := make([]*Problem, 0, len(ap.Properties))
			for _, prop := range ap.Properties {
				out = append(out, &Problem{Field: joinField(field, prop), Msg: "unknown field (misspelt, or not part of " + APIVersion + " " + Kind + ")"})
			}
			return out
		}
		switch ve.ErrorKind.(type) {
		case *kind.MinProperties, *kind.MaxProperties:
			if field == "spec.target" {
				return []*Problem{{Field: field, Msg: "give exactly one of file, embedded or containers"}}
			}
		}
		if tk, ok := ve.ErrorKind.(*kind.Type); ok {
			var want []string
			for _, w := range tk.Want {
				want = append(want, typeWords(w))
			}
			return []*Problem{{Field: field, Msg: "expected " + strings.Join(want, " or ") + ", got " + typeWords(tk.Got)}}
		}
		if pk, ok := ve.ErrorKind.(*kind.Pattern); ok {
			if what := patternWords(pk.Want); what != "" {
				return []*Problem{{Field: field, Msg: fmt.Sprintf("expected %s, got %q", what, pk.Got)}}
			}
		}
		return []*Problem{{Field: field, Msg: ve.ErrorKind.LocalizedString(printer)}}
	}
	var out []*Problem
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// fieldPath renders a JSON pointer's tokens as spec.faults[0].select.
func fieldPath(tokens []string) string {
	var b strings.Builder
	for _, tok := range tokens {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// locate fills in each problem's file and line and joins them in line order, the first
// yamlpos.MaxReported of them.
func locate(name string, root *yaml.Node, probs []*Problem) error {
	for _, p := range probs {
		p.File = name
		if p.Line == 0 && root != nil {
			p.Line = yamlpos.Line(root, p.Field)
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	shown, omitted := yamlpos.Capped(len(probs))
	errs := make([]error, 0, shown+1)
	for _, p := range probs[:shown] {
		errs = append(errs, p)
	}
	if omitted > 0 {
		errs = append(errs, &Problem{File: name, Msg: fmt.Sprintf("and %d more mistakes", omitted)})
	}
	return errors.Join(errs...)
}

// patternWords says in words what the schema's patterns accept, so a mistake reads "expected a
// duration such as 500ms", not a regular expression; "" for a pattern it does not know.
func patternWords(pattern string) string {
	switch {
	case strings.Contains(pattern, "(ns|us|"):
		return "a duration such as 500ms, 15s or 1m30s"
	case strings.HasPrefix(pattern, "^(one|all|"):
		return "a mode: one, all, fixed:N (N from 1) or percent:P (P above 0, at most 100)"
	case strings.HasPrefix(pattern, "^[a-z_]+(/"):
		return "an outcome: class or class/reason, such as completed or rejected/policy_forbids_fallback"
	case strings.HasPrefix(pattern, "^[A-Za-z0-9]"):
		return "a name of letters, digits, '.', '_' and '-', starting with a letter or digit"
	}
	return ""
}

// typeWords names a JSON type as a YAML author knows it.
func typeWords(t string) string {
	switch t {
	case "integer":
		return "an integer"
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "boolean":
		return "true or false"
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "null":
		return "nothing (null)"
	}
	return t
}
