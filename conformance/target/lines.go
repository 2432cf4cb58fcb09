package target

import (
	"errors"

	"github.com/aruntime/arcert/internal/yamlpos"
)

// yamlProblem turns the YAML library's "line N: msg" errors into located problems.
func yamlProblem(name string, err error) error {
	msgs := yamlpos.Messages(err, "target.")
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, &Problem{File: name, Line: m.Line, Msg: m.Text})
	}
	return errors.Join(out...)
}
