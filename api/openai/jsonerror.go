package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// FieldError is a body that does not fit the wire types, said in JSON's words: the field at
// fault (a dotted path; empty for the body itself) and what it should have held. A caller never
// sees a Go type name, which means nothing to someone writing JSON.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	field := e.Field
	if field == "" {
		field = "body"
	}
	return field + ": " + e.Message
}

// DescribeJSONError turns an error of json.Unmarshal into the wire types into a FieldError, or
// returns nil for a syntax error (which has an offset, not a field) and any other error.
func DescribeJSONError(err error) *FieldError {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return &FieldError{Field: typ.Field, Message: "expected " + Expected(typ.Type) + ", got " + got(typ.Value)}
	}
	return nil
}

// Expected names, in JSON's words, what a field of Go type t accepts.
func Expected(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "another JSON value"
	}
}

// got names the JSON value encoding/json describes as value ("array", "number 1.5", …).
func got(value string) string {
	switch {
	case value == "object" || value == "array":
		return "an " + value
	case value == "string" || value == "number":
		return "a " + value
	case value == "bool":
		return "true or false"
	case strings.HasPrefix(value, "number "):
		return strings.TrimPrefix(value, "number ")
	default:
		return fmt.Sprintf("%q", value)
	}
}
