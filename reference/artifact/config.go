package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/aruntime/arcert/api/openai"
)

// Config is the model config an artifact carries: what the model is called,
// the limits a worker enforces on requests and the device footprint it
// reserves. The field meanings match reference/config.Model.
type Config struct {
	Name            string `json:"name"`
	ContextLength   int    `json:"context_length"`
	MaxOutputTokens int    `json:"max_output_tokens"`
	KVBytesPerToken uint64 `json:"kv_bytes_per_token"`
	WeightsBytes    uint64 `json:"weights_bytes"`
}

// Bounds on config values. They are far above any real model, so they only
// catch a config that is corrupt or hostile (a context length that would
// size an allocation to overflow, a footprint no device holds), never a
// legitimate one.
const (
	// MaxConfigBytes bounds the config blob; a real one is ~150 bytes.
	MaxConfigBytes = 64 << 10
	// maxContextLength is 16 Mi tokens.
	maxContextLength = 1 << 24
	// maxKVBytesPerToken is 1 GiB of KV cache per token.
	maxKVBytesPerToken = 1 << 30
	// maxWeightsBytes is 16 TiB of weights.
	maxWeightsBytes = 1 << 44
)

// nameRE is what a model name may look like: it is also the last element of
// the registry repository the artifact lives in, and OCI repository
// components are lowercase alphanumerics joined by single separators.
var nameRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// rawConfig tells a missing field (nil) from a zero one.
type rawConfig struct {
	Name            *string `json:"name"`
	ContextLength   *int64  `json:"context_length"`
	MaxOutputTokens *int64  `json:"max_output_tokens"`
	KVBytesPerToken *int64  `json:"kv_bytes_per_token"`
	WeightsBytes    *int64  `json:"weights_bytes"`
}

// ParseConfig decodes and validates a model config strictly: one JSON
// object, no unknown fields, every field present and in range. Errors wrap
// ErrMalformed and name the field, so an operator knows what to fix.
func ParseConfig(data []byte) (Config, error) {
	if len(data) > MaxConfigBytes {
		return Config{}, fmt.Errorf("%w: config is %d bytes, at most %d", ErrMalformed, len(data), MaxConfigBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw rawConfig
	if err := dec.Decode(&raw); err != nil {
		return Config{}, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: config has data after its JSON object", ErrMalformed)
	}
	if raw.Name == nil {
		return Config{}, missing("name")
	}
	if !nameRE.MatchString(*raw.Name) || len(*raw.Name) > 128 {
		return Config{}, fieldError("name", "%q is not a lowercase name of at most 128 characters ([a-z0-9] joined by . _ -)", *raw.Name)
	}
	ctxLen, err := inRange("context_length", raw.ContextLength, 1, maxContextLength)
	if err != nil {
		return Config{}, err
	}
	maxOut, err := inRange("max_output_tokens", raw.MaxOutputTokens, 1, ctxLen)
	if err != nil {
		return Config{}, err
	}
	kv, err := inRange("kv_bytes_per_token", raw.KVBytesPerToken, 1, maxKVBytesPerToken)
	if err != nil {
		return Config{}, err
	}
	weights, err := inRange("weights_bytes", raw.WeightsBytes, 1, maxWeightsBytes)
	if err != nil {
		return Config{}, err
	}
	return Config{
		Name:            *raw.Name,
		ContextLength:   int(ctxLen),
		MaxOutputTokens: int(maxOut),
		KVBytesPerToken: uint64(kv),
		WeightsBytes:    uint64(weights),
	}, nil
}

// inRange checks a required integer field against [lo, hi].
func inRange(field string, v *int64, lo, hi int64) (int64, error) {
	switch {
	case v == nil:
		return 0, missing(field)
	case *v < lo || *v > hi:
		return 0, fieldError(field, "%d is out of range [%d, %d]", *v, lo, hi)
	}
	return *v, nil
}

func missing(field string) error { return fieldError(field, "missing") }

func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%w: config field %q: %s", ErrMalformed, field, fmt.Sprintf(format, args...))
}

// decodeError names the field encoding/json complained about where it can.
func decodeError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fieldError(typ.Field, "%s", openai.DescribeJSONError(typ).Message)
	}
	// Unknown fields and syntax errors: encoding/json's message names the
	// field or the offset.
	return fmt.Errorf("%w: config: %w", ErrMalformed, err)
}
