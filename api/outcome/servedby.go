package outcome

import (
	"fmt"
	"strings"
)

// ServedBy says where a request was served, so that data movement and hosted fallback are visible
// to the caller. Its wire form is `region=…; pool=…; provider=…; deployment=…`.
type ServedBy struct {
	Region     string `json:"region,omitempty"`
	Pool       string `json:"pool,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Deployment string `json:"deployment,omitempty"`
	Worker     string `json:"worker,omitempty"`
}

// String renders the header value; empty fields are left out.
func (s ServedBy) String() string {
	// One allocation: the value goes out on every served response (header and gRPC metadata),
	// where a slice of parts and a string per part showed in the router's allocation profile.
	var b strings.Builder
	b.Grow(len(s.Region) + len(s.Pool) + len(s.Provider) + len(s.Deployment) + len(s.Worker) + 64)
	add := func(k, v string) {
		if v == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	add("region", s.Region)
	add("pool", s.Pool)
	add("provider", s.Provider)
	add("deployment", s.Deployment)
	add("worker", s.Worker)
	return b.String()
}

// IsZero reports whether nothing served the request.
func (s ServedBy) IsZero() bool { return s == ServedBy{} }

// ParseServedBy reads the header value. Unknown keys are an error so that a runtime cannot hide
// where it sent data behind a misspelt key.
func ParseServedBy(v string) (ServedBy, error) {
	var s ServedBy
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return ServedBy{}, fmt.Errorf("outcome: served-by part %q has no '='", part)
		}
		val = strings.TrimSpace(val)
		switch strings.TrimSpace(k) {
		case "region":
			s.Region = val
		case "pool":
			s.Pool = val
		case "provider":
			s.Provider = val
		case "deployment":
			s.Deployment = val
		case "worker":
			s.Worker = val
		default:
			return ServedBy{}, fmt.Errorf("outcome: served-by key %q is not one of region, pool, provider, deployment, worker", k)
		}
	}
	return s, nil
}
