package yamlschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/aruntime/arcert/internal/yamlpos"
)

// Format is one kind of file: its schema and the words its mistakes are said in. Declare it as
// a package variable and use it by pointer; the schema is compiled once, on first use.
type Format struct {
	// Resource names the schema inside the compiler, such as "target.json".
	Resource string
	// Schema is the JSON Schema document (draft 2020-12), usually embedded.
	Schema []byte
	// Noun names one file of the format with its article, "a target", for the size limit's message.
	Noun string
	// MaxBytes bounds a file; a real one is a few kilobytes.
	MaxBytes int
	// Unknown is the message for a key the schema does not allow; it is said at the key's own line.
	Unknown string
	// Say, when set, says a schema mistake at field in the format's words, or returns "" to leave
	// it to the schema library's English.
	Say func(field string, k jsonschema.ErrorKind) string

	once     sync.Once
	compiled *jsonschema.Schema
	err      error
}

// Decode reads data, the file name, into v (a pointer to the format's Go type): it parses the
// YAML, checks it against the schema, then decodes it. It returns the node tree, for locating
// the mistakes the caller finds afterwards, or the file's mistakes, located and in line order
// where the schema found them. err is the schema itself failing to compile: the harness's fault,
// not the file's.
func (f *Format) Decode(name string, data []byte, v any) (root *yaml.Node, probs []*Problem, err error) {
	if len(data) > f.MaxBytes {
		return nil, []*Problem{{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the %d %s may be", len(data), f.MaxBytes, f.Noun)}}, nil
	}
	root = new(yaml.Node)
	if err := yaml.Unmarshal(data, root); err != nil {
		return nil, fromYAML(name, err, yamlpos.Source{Data: data}), nil
	}
	if len(root.Content) == 0 {
		return nil, []*Problem{{File: name, Msg: "file is empty"}}, nil
	}
	var generic any
	if err := root.Decode(&generic); err != nil {
		return nil, fromYAML(name, err, yamlpos.Source{Data: data, Root: root}), nil
	}
	instance, err := ToJSON(generic)
	if err != nil {
		return nil, []*Problem{{File: name, Msg: err.Error()}}, nil
	}
	sch, err := f.schema()
	if err != nil {
		return nil, nil, err
	}
	if err := sch.Validate(instance); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, Locate(name, root, f.leaves(ve)), nil
		}
		return nil, []*Problem{{File: name, Msg: err.Error()}}, nil
	}
	if err := root.Decode(v); err != nil {
		return nil, fromYAML(name, err, yamlpos.Source{Data: data, Root: root, Type: reflect.TypeOf(v).Elem()}), nil
	}
	return root, nil, nil
}

func (f *Format) schema() (*jsonschema.Schema, error) {
	f.once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(f.Schema))
		if err != nil {
			f.err = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(f.Resource, doc); err != nil {
			f.err = err
			return
		}
		f.compiled, f.err = c.Compile(f.Resource)
	})
	return f.compiled, f.err
}

// ToJSON turns YAML's decoded values into what a JSON decoder would have produced, so the schema
// sees numbers and maps as JSON has them; exported for tests that validate a file against a
// format's published schema as an editor would.
func ToJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("not representable as JSON: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

var printer = message.NewPrinter(language.English)

// leaves flattens a validation error tree into its most specific problems, not yet located.
func (f *Format) leaves(ve *jsonschema.ValidationError) []*Problem {
	if len(ve.Causes) == 0 {
		field := fieldPath(ve.InstanceLocation)
		if ap, ok := ve.ErrorKind.(*kind.AdditionalProperties); ok {
			// Point at each unknown key's own line, not at the mapping that holds it.
			out := make([]*Problem, 0, len(ap.Properties))
			for _, prop := range ap.Properties {
				out = append(out, &Problem{Field: joinField(field, prop), Msg: f.Unknown})
			}
			return out
		}
		if f.Say != nil {
			if msg := f.Say(field, ve.ErrorKind); msg != "" {
				return []*Problem{{Field: field, Msg: msg}}
			}
		}
		return []*Problem{{Field: field, Msg: ve.ErrorKind.LocalizedString(printer)}}
	}
	var out []*Problem
	for _, c := range ve.Causes {
		out = append(out, f.leaves(c)...)
	}
	return out
}

func joinField(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// fieldPath renders a JSON pointer's tokens as a field path such as tenants[0].quota.
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
