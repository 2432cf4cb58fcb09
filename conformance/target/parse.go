package target

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aruntime/arcert/internal/yamlpos"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schema.json
var schemaJSON []byte

// SchemaJSON returns the JSON Schema target files are validated against, for editors and docs.
func SchemaJSON() []byte { return bytes.Clone(schemaJSON) }

// ErrInvalid is wrapped by every error that is the file's fault (as opposed to an unreadable file).
var ErrInvalid = errors.New("target: invalid")

// Problem is one mistake in a target file, located by line and field path.
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

// maxTargetBytes bounds a target file; a real one is a few kilobytes.
const maxTargetBytes = 1 << 20

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
)

func schema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			compileErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("target.json", doc); err != nil {
			compileErr = err
			return
		}
		compiled, compileErr = c.Compile("target.json")
	})
	return compiled, compileErr
}

// Load reads and validates the target file at path.
func Load(path string) (*Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	return Parse(path, data)
}

// Parse validates data against the schema and the cross-field rules and decodes it. Every
// mistake is reported, each as FILE:LINE: field: message.
func Parse(name string, data []byte) (*Target, error) {
	if len(data) > maxTargetBytes {
		return nil, &Problem{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the %d a target may be", len(data), maxTargetBytes)}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlProblem(name, err, yamlpos.Source{Data: data})
	}
	if len(root.Content) == 0 {
		return nil, &Problem{File: name, Msg: "file is empty"}
	}
	var generic any
	if err := root.Decode(&generic); err != nil {
		return nil, yamlProblem(name, err, yamlpos.Source{Data: data, Root: &root})
	}
	instance, err := toJSON(generic)
	if err != nil {
		return nil, &Problem{File: name, Msg: err.Error()}
	}
	sch, err := schema()
	if err != nil {
		return nil, fmt.Errorf("target: schema: %w", err)
	}
	if err := sch.Validate(instance); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, locate(name, &root, leaves(ve))
		}
		return nil, &Problem{File: name, Msg: err.Error()}
	}
	var t Target
	if err := root.Decode(&t); err != nil {
		return nil, yamlProblem(name, err, yamlpos.Source{Data: data, Root: &root, Type: reflect.TypeFor[Target]()})
	}
	if probs := t.crossCheck(); len(probs) > 0 {
		return nil, locate(name, &root, probs)
	}
	sum := sha256.Sum256(data)
	t.Source, t.Digest = name, "sha256:"+hex.EncodeToString(sum[:])
	return &t, nil
}

// toJSON turns YAML's decoded values into what a JSON decoder would have produced, so the schema
// sees numbers and maps as JSON has them.
func toJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("not representable as JSON: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
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
				out = append(out, &Problem{Field: joinField(field, prop), Msg: "unknown field (misspelt, or not part of " + APIVersion + ")"})
			}
			return out
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

// fieldPath renders a JSON pointer's tokens as tenants[0].quota.
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

// locate fills in each problem's file and line and joins them in line order.
func locate(name string, root *yaml.Node, probs []*Problem) error {
	shown, omitted := yamlpos.Capped(len(probs))
	probs = probs[:shown]
	for _, p := range probs {
		p.File = name
		p.Line = yamlpos.Line(root, p.Field)
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	errs := make([]error, len(probs), len(probs)+1)
	for i, p := range probs {
		errs[i] = p
	}
	if omitted > 0 {
		errs = append(errs, &Problem{File: name, Msg: fmt.Sprintf("and %d more mistakes", omitted)})
	}
	return errors.Join(errs...)
}
