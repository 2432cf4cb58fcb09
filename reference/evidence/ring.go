package evidence

import (
	"time"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/outcome"
)

// ring is the Memory store's records, oldest first, in a circular buffer of packed records.
// Dropping the oldest record and appending a new one moves no other record and, once the buffer
// has grown to the number of records the bounds let it hold, allocates nothing: a slice re-sliced
// from the front and appended at the back would copy the whole store into a new array every so
// often, and the garbage of those copies, not the records, would set the process's peak memory.
type ring struct {
	buf  []packed
	head int // index of the oldest record
	n    int
	// labels interns what many records share, each entry counted by the records holding it.
	labels map[labels]*labelsRef
}

// labels are the fields of a record that repeat across requests (who, where, which versions, how
// it ended): a packed record points at one shared copy instead of holding fifteen strings.
type labels struct {
	tenant, application, user, trafficClass, model, deployment string
	artifactDigest, policyVersion, cacheTier, costCenter       string
	servedBy                                                   outcome.ServedBy
	outcome                                                    outcome.Class
	reason                                                     outcome.Reason
}

// labelsRef is an interned labels and how many records hold it, so it is released with the last.
type labelsRef struct {
	labels
	refs int
}

// packed is a record as the ring keeps it: a third of a Record's size.
type packed struct {
	seq                            uint64
	unixNano                       int64 // Time, in UTC without a monotonic reading, as its hash covers it
	labels                         *labelsRef
	requestID, clientUser, traceID string
	prevHash, hash                 string
	attestation                    string // changes with every attestation, so not a shared label
	toolCalls                      []discovery.ToolCall
	tokens                         discovery.Tokens
	costMicroUSD                   int64
	durationMS                     float64
}

// ringMinCap is the buffer's first size and smallest growth; past it the buffer grows by a
// quarter at a time (up to the record bound), so that slots beyond what the byte bound lets the
// store hold stay few.
const ringMinCap = 1024

func (r *ring) len() int { return r.n }

// at is the i-th record, oldest first.
func (r *ring) at(i int) discovery.Record { return r.buf[(r.head+i)%len(r.buf)].record() }

// seqAt is the Seq of the i-th record, without unpacking it.
func (r *ring) seqAt(i int) uint64 { return r.buf[(r.head+i)%len(r.buf)].seq }

// requestIDAt is the request id of the i-th record, without unpacking it.
func (r *ring) requestIDAt(i int) string { return r.buf[(r.head+i)%len(r.buf)].requestID }

// push appends rec, growing the buffer (up to maxLen records) when it is full.
func (r *ring) push(rec discovery.Record, maxLen int) {
	if r.n == len(r.buf) {
		grown := make([]packed, min(len(r.buf)+max(ringMinCap, len(r.buf)/4), maxLen))
		for i := range r.n {
			grown[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = grown, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = r.pack(rec)
	r.n++
}

// pop drops the oldest record and returns it, releasing its strings and its labels' share.
func (r *ring) pop() discovery.Record {
	p := &r.buf[r.head]
	old := p.record()
	if p.labels.refs--; p.labels.refs == 0 {
		delete(r.labels, p.labels.labels)
	}
	*p = packed{}
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return old
}

func (r *ring) pack(rec discovery.Record) packed {
	l := labels{tenant: rec.Tenant, application: rec.Application, user: rec.User, trafficClass: rec.TrafficClass,
		model: rec.Model, deployment: rec.Deployment, artifactDigest: rec.ArtifactDigest, policyVersion: rec.PolicyVersion,
		cacheTier: rec.CacheTier, costCenter: rec.CostCenter, servedBy: rec.ServedBy, outcome: rec.Outcome, reason: rec.Reason}
	if r.labels == nil {
		r.labels = map[labels]*labelsRef{}
	}
	ref := r.labels[l]
	if ref == nil {
		ref = &labelsRef{labels: l}
		r.labels[l] = ref
	}
	ref.refs++
	return packed{seq: rec.Seq, unixNano: rec.Time.UnixNano(), labels: ref, requestID: rec.RequestID, clientUser: rec.ClientUser,
		traceID: rec.TraceID, prevHash: rec.PrevHash, hash: rec.Hash, attestation: rec.Attestation, toolCalls: rec.ToolCalls, tokens: rec.Tokens, costMicroUSD: rec.CostMicroUSD, durationMS: rec.DurationMS}
}

func (p *packed) record() discovery.Record {
	l := p.labels
	return discovery.Record{Seq: p.seq, RequestID: p.requestID, Time: time.Unix(0, p.unixNano).UTC(), Tenant: l.tenant,
		Application: l.application, User: l.user, ClientUser: p.clientUser, TrafficClass: l.trafficClass, Model: l.model,
		Deployment: l.deployment, Attestation: p.attestation, ArtifactDigest: l.artifactDigest, PolicyVersion: l.policyVersion, ServedBy: l.servedBy,
		Outcome: l.outcome, Reason: l.reason, Tokens: p.tokens, CacheTier: l.cacheTier, CostMicroUSD: p.costMicroUSD,
		CostCenter: l.costCenter, TraceID: p.traceID, DurationMS: p.durationMS, ToolCalls: p.toolCalls,
		PrevHash: p.prevHash, Hash: p.hash}
}
