package spec

import "github.com/aruntime/arcert/internal/yamlschema"

// toJSON is the shared reader's conversion, by the name the tests had for it here.
var toJSON = yamlschema.ToJSON
