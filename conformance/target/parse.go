package target

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/aruntime/arcert/internal/yamlschema"
)

//go:embed schema.json
var schemaJSON []byte

// SchemaJSON returns the JSON Schema target files are validated against, for editors and docs.
func SchemaJSON() []byte { return bytes.Clone(schemaJSON) }

// ErrInvalid is wrapped by every error that is the file's fault (as opposed to an unreadable file).
var ErrInvalid = errors.New("target: invalid")

// Problem is one mistake in a target file, located by line and field path: File, Line (0 when
// unknown), Field (empty for the file as a whole) and Msg, the layout every format read by
// internal/yamlschema shares.
type Problem yamlschema.Problem

// Error says the problem as FILE:LINE: field: message.
func (p *Problem) Error() string { return (*yamlschema.Problem)(p).Error() }

// Unwrap makes every Problem an ErrInvalid.
func (p *Problem) Unwrap() error { return ErrInvalid }

// maxTargetBytes bounds a target file; a real one is a few kilobytes.
const maxTargetBytes = 1 << 20

// targetFormat reads target files, as gameday/spec reads scenarios (see internal/yamlschema).
var targetFormat = &yamlschema.Format{
	Resource: "target.json",
	Schema:   schemaJSON,
	Noun:     "a target",
	MaxBytes: maxTargetBytes,
	Unknown:  "unknown field (misspelt, or not part of " + APIVersion + ")",
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
	var t Target
	root, probs, err := targetFormat.Decode(name, data, &t)
	if err != nil {
		return nil, fmt.Errorf("target: schema: %w", err)
	}
	if len(probs) > 0 {
		return nil, yamlschema.Join(probs, own)
	}
	t.fillDefaults()
	if probs := t.crossCheck(); len(probs) > 0 {
		return nil, yamlschema.Join(yamlschema.Locate(name, root, probs), own)
	}
	sum := sha256.Sum256(data)
	t.Source, t.Digest = name, "sha256:"+hex.EncodeToString(sum[:])
	return &t, nil
}

// own makes a problem of the shared reader this package's, an ErrInvalid.
func own(p *yamlschema.Problem) error { return (*Problem)(p) }
