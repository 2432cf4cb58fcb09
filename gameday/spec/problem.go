package spec

import (
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"

	"github.com/aruntime/arcert/internal/yamlschema"
)

// ErrInvalid is wrapped by every error that is the scenario file's fault (as opposed to an
// unreadable file or a broken harness).
var ErrInvalid = errors.New("gameday: invalid scenario")

// Problem is one mistake in a scenario file, located by line and field path: File, Line (0 when
// unknown), Field (empty for the file as a whole) and Msg, the layout every format read by
// internal/yamlschema shares.
type Problem yamlschema.Problem

// Error says the problem as FILE:LINE: field: message.
func (p *Problem) Error() string { return (*yamlschema.Problem)(p).Error() }

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

// own makes a problem of the shared reader this package's, an ErrInvalid that Problems finds.
func own(p *yamlschema.Problem) error { return (*Problem)(p) }

// locate names the file and line of each problem, in line order, the first yamlpos.MaxReported
// of them (see yamlschema.Locate), joined.
func locate(name string, root *yaml.Node, probs []*yamlschema.Problem) error {
	return yamlschema.Join(yamlschema.Locate(name, root, probs), own)
}

// schemaWords says the schema's mistakes in a scenario author's words, or "" to leave one to
// the schema library.
func schemaWords(field string, k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.MinProperties, *kind.MaxProperties:
		if field == "spec.target" {
			return "give exactly one of file, embedded or containers"
		}
	case *kind.Type:
		var want []string
		for _, w := range k.Want {
			want = append(want, typeWords(w))
		}
		return "expected " + strings.Join(want, " or ") + ", got " + typeWords(k.Got)
	case *kind.Pattern:
		if what := patternWords(k.Want); what != "" {
			return fmt.Sprintf("expected %s, got %q", what, k.Got)
		}
	}
	return ""
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
