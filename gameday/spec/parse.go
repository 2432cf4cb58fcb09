package spec

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/aruntime/arcert/internal/yamlpos"
)

//go:embed schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft 2020-12) scenario files are validated against, for
// `arcert gameday schema`, editors and docs.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// maxFileBytes bounds a scenario file; a real one is a few kilobytes.
const maxFileBytes = 1 << 20

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
		if err := c.AddResource("gameday.json", doc); err != nil {
			compileErr = err
			return
		}
		compiled, compileErr = c.Compile("gameday.json")
	})
	return compiled, compileErr
}

// Load reads and checks the scenario file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gameday: %w", err)
	}
	return Parse(path, data)
}

// Parse checks data against the schema and the rules a schema cannot say (fault windows within
// the phases, each fault kind with its own parameters, outcomes of the contract) and decodes it.
// Every mistake is reported, each as a *Problem (FILE:LINE: field: message), joined in line
// order; Problems lists them.
func Parse(name string, data []byte) (*File, error) {
	if len(data) > maxFileBytes {
		return nil, &Problem{File: name, Msg: fmt.Sprintf("file is %d bytes, more than the %d a scenario may be", len(data), maxFileBytes)}
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
		return nil, fmt.Errorf("gameday: schema: %w", err)
	}
	if err := sch.Validate(instance); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return nil, locate(name, &root, leaves(ve))
		}
		return nil, &Problem{File: name, Msg: err.Error()}
	}
	f := &File{Source: name, root: &root}
	if err := root.Decode(f); err != nil {
		return nil, yamlProblem(name, err, yamlpos.Source{Data: data, Root: &root, Type: reflect.TypeFor[File]()})
	}
	if probs := f.check(); len(probs) > 0 {
		return nil, locate(name, &root, probs)
	}
	return f, nil
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
