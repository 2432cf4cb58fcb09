package target

import (
	"math"
	"time"
)

// A plain OpenAI-compatible runtime (Ollama, vLLM, llama.cpp) has no tenants' quotas, no
// versions API, no class deadlines or objectives, no data policy and no price list. The record
// lets it leave those out. What each absence costs (which requirements become NOT_SUPPORTED or
// are judged against a default) is conformance/plan's to say; this file gives the suites values
// they can use without misjudging: a default deadline, an output bound, and quotas that read as
// "no limit" rather than as zero.

// DefaultDeadline is the deadline of a class that states none: how long the harness waits for an
// outcome before it calls a request hung. It is the bound the fault runs already assumed.
const DefaultDeadline = time.Minute

// Unlimited is the value a quota the record does not state reads as: the runtime enforces none,
// so any load the harness plans fits under it.
const Unlimited = math.MaxInt32

// DeadlineStated reports whether the record gave the class its deadline (rather than the
// harness's DefaultDeadline).
func (c TrafficClass) DeadlineStated() bool { return !c.deadlineDefaulted && c.Deadline > 0 }

// MaxOutputStated reports whether the record gave the model's output limit (rather than its
// context length standing in for it).
func (m Model) MaxOutputStated() bool { return !m.maxOutputDefaulted && m.MaxOutputTokens > 0 }

// Stated reports whether the record states every number of the quota.
func (q Quota) Stated() bool {
	return q.RequestsPerMinute > 0 && q.TokensPerMinute > 0 && q.MaxConcurrency > 0
}

// Requests is the request quota per minute, Unlimited when not stated.
func (q Quota) Requests() int { return orUnlimited(q.RequestsPerMinute) }

// Tokens is the token quota per minute, Unlimited when not stated.
func (q Quota) Tokens() int { return orUnlimited(q.TokensPerMinute) }

// Concurrency is the concurrency limit, Unlimited when not stated.
func (q Quota) Concurrency() int { return orUnlimited(q.MaxConcurrency) }

func orUnlimited(n int) int {
	if n <= 0 {
		return Unlimited
	}
	return n
}

// Stated reports whether the record gives the tenant a data policy.
func (d DataPolicy) Stated() bool { return len(d.AllowedRegions) > 0 }

// Allows reports whether the tenant's data may be served in region: anywhere when the record
// states no policy.
func (d DataPolicy) Allows(region string) bool {
	if !d.Stated() {
		return true
	}
	for _, r := range d.AllowedRegions {
		if r == region {
			return true
		}
	}
	return false
}

// Stated reports whether the record pins both versions the versions requirements compare.
func (p Pins) Stated() bool { return p.RuntimeVersion != "" && p.PolicyVersion != "" }

// fillDefaults gives what the record left out the values the suites run with, remembering
// what was stated.
func (t *Target) fillDefaults() {
	for i := range t.TrafficClasses {
		c := &t.TrafficClasses[i]
		if c.Deadline <= 0 {
			c.Deadline, c.deadlineDefaulted = DefaultDeadline, true
		}
	}
	for i := range t.Models {
		m := &t.Models[i]
		if m.MaxOutputTokens <= 0 {
			m.MaxOutputTokens, m.maxOutputDefaulted = m.ContextLength, true
		}
	}
}
