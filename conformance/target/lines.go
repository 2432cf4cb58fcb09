package target

import (
	"errors"

	"github.com/aruntime/arcert/internal/yamlpos"
)

// yamlProblem turns the YAML library's errors into located problems, each once.
func yamlProblem(name string, err error, src yamlpos.Source) error {
	msgs := yamlpos.Messages(err, src)
	out := make([]error, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, &Problem{File: name, Line: m.Line, Field: m.Field, Msg: m.Text})
	}
	return errors.Join(out...)
}
