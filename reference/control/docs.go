package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"

	"github.com/aruntime/arcert/api/openai"
)

// The documents the control plane keeps, one type per bucket. Each is decoded strictly (unknown
// fields are refused) and validated before it is stored, so a worker watching a bucket never sees
// a document it cannot act on.

// ModelDoc is one entry of the model repository, keyed by model name.
type ModelDoc struct {
	// ArtifactDigest pins the model's artifact by content, never by tag.
	ArtifactDigest string `json:"artifact_digest"`
	// Repo records the OCI repository the artifact was pushed to, for people; workers pull from
	// their configured repository prefix plus the model name, so it is optional.
	Repo string `json:"repo,omitempty"`
	// Pinned freezes the model on ArtifactDigest: no rollout moves a pinned model.
	Pinned bool `json:"pinned"`
}

// RoutingDoc is the routing policy the routers apply; Version is what they report as applied.
type RoutingDoc struct {
	Version string `json:"version"`
	// AffinitySlack is how many more outstanding requests a prefix-affine worker may have than the
	// least loaded one before affinity gives way to load.
	AffinitySlack int `json:"affinity_slack"`
	// RegionOrder is the order regions are tried in, within what each tenant's policy allows.
	RegionOrder []string `json:"region_order,omitempty"`
}

// DeploymentDoc is the deployment configuration: which runtime and policy versions a deployment
// runs, so evidence and the versions endpoint can pin them.
type DeploymentDoc struct {
	Version        string `json:"version"`
	Name           string `json:"name"`
	Region         string `json:"region,omitempty"`
	RuntimeVersion string `json:"runtime_version,omitempty"`
	PolicyVersion  string `json:"policy_version,omitempty"`
}

// QuotaDoc is one tenant's declared allowance, keyed by tenant name. Every limit is explicit and
// positive, as in the runtime configuration: capacity is declared, not discovered under load.
type QuotaDoc struct {
	RequestsPerMinute int `json:"requests_per_minute"`
	TokensPerMinute   int `json:"tokens_per_minute"`
	MaxConcurrency    int `json:"max_concurrency"`
}

// RolloutDoc is the rollout state of one model, keyed by model name: Weight percent of workers
// take ToDigest, the rest stay on FromDigest.
type RolloutDoc struct {
	FromDigest string `json:"from_digest"`
	ToDigest   string `json:"to_digest"`
	// Weight is 0..100; 0 moves nobody, 100 moves everyone.
	Weight  int    `json:"weight"`
	Version string `json:"version"`
}

// AutoscaleDoc is one decision of the autoscaler about its group, keyed by the group's template
// worker: how many workers it wants, what it did and why, on what it observed.
type AutoscaleDoc struct {
	Model   string `json:"model"`
	Workers int    `json:"workers"`
	// Action is "scale_out", "scale_in" or "hold" (the first document of a group).
	Action string `json:"action"`
	Reason string `json:"reason"`
	// Observed is what the decision saw: work waiting and running on the group, and its slots.
	Waiting  int `json:"waiting"`
	Running  int `json:"running"`
	Capacity int `json:"capacity"`
}

// maxWeight is the weight at which every worker takes a rollout's new digest.
const maxWeight = 100

// digestPattern is a pinned sha256 content digest, as OCI registries spell it.
var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// FieldError says which field of a document is wrong and why. It matches ErrInvalidDocument, so
// callers can tell a refused document from a store that is away.
type FieldError struct {
	Bucket string
	// Field is the JSON name of the offending field; empty when the document as a whole is wrong.
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("control: %s document: %s", e.Bucket, e.Problem)
	}
	return fmt.Sprintf("control: %s document: field %q: %s", e.Bucket, e.Field, e.Problem)
}

// Unwrap makes every FieldError an ErrInvalidDocument.
func (e *FieldError) Unwrap() error { return ErrInvalidDocument }

// newDoc returns a pointer to a fresh document of bucket's type.
func newDoc(bucket string) (any, error) {
	switch bucket {
	case BucketModels:
		return &ModelDoc{}, nil
	case BucketRouting:
		return &RoutingDoc{}, nil
	case BucketDeployment:
		return &DeploymentDoc{}, nil
	case BucketQuotas:
		return &QuotaDoc{}, nil
	case BucketRollout:
		return &RolloutDoc{}, nil
	case BucketAutoscale:
		return &AutoscaleDoc{}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownBucket, bucket)
}

// Decode reads raw strictly as bucket's document type and validates it. It returns the document
// by value (ModelDoc, RolloutDoc, ...), so watchers can type-switch on it.
func Decode(bucket string, raw []byte) (any, error) {
	doc, err := newDoc(bucket)
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(raw, doc); err != nil {
		return nil, fieldError(bucket, err)
	}
	if err := validate(bucket, doc); err != nil {
		return nil, err
	}
	// The document is returned by value so that a caller's copy never aliases another's.
	return reflect.ValueOf(doc).Elem().Interface(), nil
}

// canonical turns doc (a document value, or its JSON as []byte or json.RawMessage) into the
// validated JSON that is stored, so what is kept never depends on how the caller spelled it.
func canonical(bucket string, doc any) ([]byte, error) {
	var raw []byte
	switch d := doc.(type) {
	case []byte:
		raw = d
	case json.RawMessage:
		raw = d
	default:
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, &FieldError{Bucket: bucket, Problem: err.Error()}
		}
		raw = b
	}
	v, err := Decode(bucket, raw)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// decodeStrict decodes exactly one JSON object with no unknown fields into v.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errTrailing
	}
	return nil
}

// errTrailing is decodeStrict's complaint about anything after the document.
var errTrailing = errors.New("trailing data after the document")

// fieldError names the field a decoding error is about, where encoding/json tells.
func fieldError(bucket string, err error) *FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		// In JSON's words (expected an integer, got a string), never a Go type.
		return &FieldError{Bucket: bucket, Field: typeErr.Field, Problem: openai.DescribeJSONError(typeErr).Message}
	case errors.As(err, &syntaxErr):
		return &FieldError{Bucket: bucket, Problem: fmt.Sprintf("malformed JSON at offset %d: %v", syntaxErr.Offset, err)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &FieldError{Bucket: bucket, Problem: "empty or truncated document"}
	}
	// encoding/json has no type for an unknown field; its message is stable: json: unknown field "x".
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return &FieldError{Bucket: bucket, Field: strings.Trim(name, `"`), Problem: "unknown field"}
	}
	return &FieldError{Bucket: bucket, Problem: err.Error()}
}
