package control

import (
	"fmt"
	"regexp"
)

// namePattern is a region, deployment or version name: printable, no spaces, bounded.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,127}$`)

// checker collects the first problem of a document, so the error names one field and the order
// of checks (the order of the fields) decides which.
type checker struct {
	bucket string
	err    *FieldError
}

func (c *checker) fail(field, format string, args ...any) {
	if c.err == nil {
		c.err = &FieldError{Bucket: c.bucket, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
}

func (c *checker) digest(field, v string) {
	if !digestPattern.MatchString(v) {
		c.fail(field, "%q is not a pinned digest (sha256: and 64 lowercase hex digits)", v)
	}
}

func (c *checker) name(field, v string) {
	if !namePattern.MatchString(v) {
		c.fail(field, "%q is empty or not a plain name", v)
	}
}

func (c *checker) optionalName(field, v string) {
	if v != "" {
		c.name(field, v)
	}
}

func (c *checker) positive(field string, v int) {
	if v <= 0 {
		c.fail(field, "%d must be positive", v)
	}
}

// validate checks a decoded document (a pointer from newDoc) for values its type cannot refuse.
func validate(bucket string, doc any) error {
	c := &checker{bucket: bucket}
	switch d := doc.(type) {
	case *ModelDoc:
		c.digest("artifact_digest", d.ArtifactDigest)
	case *RoutingDoc:
		c.name("version", d.Version)
		if d.AffinitySlack < 0 {
			c.fail("affinity_slack", "%d must not be negative", d.AffinitySlack)
		}
		seen := map[string]bool{}
		for _, r := range d.RegionOrder {
			c.name("region_order", r)
			if seen[r] {
				c.fail("region_order", "%q is listed twice", r)
			}
			seen[r] = true
		}
	case *DeploymentDoc:
		c.name("version", d.Version)
		c.name("name", d.Name)
		c.optionalName("region", d.Region)
		c.optionalName("runtime_version", d.RuntimeVersion)
		c.optionalName("policy_version", d.PolicyVersion)
	case *QuotaDoc:
		c.positive("requests_per_minute", d.RequestsPerMinute)
		c.positive("tokens_per_minute", d.TokensPerMinute)
		c.positive("max_concurrency", d.MaxConcurrency)
	case *RolloutDoc:
		c.digest("from_digest", d.FromDigest)
		c.digest("to_digest", d.ToDigest)
		if d.ToDigest == d.FromDigest {
			c.fail("to_digest", "equals from_digest, so the rollout would move nothing")
		}
		if d.Weight < 0 || d.Weight > maxWeight {
			c.fail("weight", "%d is outside 0..%d", d.Weight, maxWeight)
		}
		c.name("version", d.Version)
	case *AutoscaleDoc:
		c.name("model", d.Model)
		c.positive("workers", d.Workers)
		switch d.Action {
		case "scale_out", "scale_in", "hold":
		default:
			c.fail("action", "%q is not scale_out, scale_in or hold", d.Action)
		}
		for _, f := range []struct {
			name string
			v    int
		}{{"waiting", d.Waiting}, {"running", d.Running}, {"capacity", d.Capacity}} {
			if f.v < 0 {
				c.fail(f.name, "%d must not be negative", f.v)
			}
		}
	}
	if c.err != nil {
		return c.err
	}
	return nil
}
