package suites

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/api/openai"
	chaosledger "github.com/aruntime/arcert/chaos/ledger"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// model is the model every probe uses: the first the target declares.
func model() target.Model { return env.Target.Models[0] }

// tenantA and tenantB are the first two tenants: A is the one whose data must not reach B.
func tenantA() target.Tenant { return env.Target.Tenants[0] }
func tenantB() target.Tenant { return env.Target.Tenants[1] }

// probe is a chat completion of maxTokens output tokens.
func probe(content string, maxTokens int, stream bool) openai.CompletionRequest {
	mt := int64(maxTokens)
	return openai.CompletionRequest{
		Model:     model().Name,
		Messages:  []openai.ChatMessage{{Role: "user", Content: content}},
		MaxTokens: &mt, Stream: stream,
	}
}

// send performs one chat completion as key and fails the spec on a transport error.
func send(ctx context.Context, key string, body openai.CompletionRequest, hdr http.Header) driver.Result {
	res, err := env.HTTP.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: key, Body: body, Header: hdr})
	Expect(err).NotTo(HaveOccurred(), "request could not be exchanged")
	return res
}

// getJSON reads a discovery endpoint as key into out and returns the HTTP status.
func getJSON(ctx context.Context, path, key string, out any) int {
	status, _, err := env.HTTP.GetJSON(ctx, path, key, out)
	Expect(err).NotTo(HaveOccurred(), "GET %s", path)
	return status
}

// evidenceFor returns the evidence records of request id as key sees them, once there are any:
// a runtime may chain evidence moments after it answers, so the first read may come too early.
// A caller that expects none uses evidenceNow after seeing the owner's record.
func evidenceFor(ctx context.Context, key, id string) []discovery.Record {
	var recs []discovery.Record
	Eventually(func() []discovery.Record { recs = evidenceNow(ctx, key, id); return recs }).WithContext(ctx).
		WithTimeout(evidenceWait).WithPolling(25*time.Millisecond).ShouldNot(BeEmpty(), "no evidence record for %s", id)
	return recs
}

// evidenceWait bounds how long after its response a request's evidence may take to be readable.
const evidenceWait = 10 * time.Second

// evidenceNow reads the evidence records of request id as key sees them, once.
func evidenceNow(ctx context.Context, key, id string) []discovery.Record {
	var list discovery.EvidenceList
	Expect(getJSON(ctx, discovery.PathEvidence+"?request_id="+id, key, &list)).To(Equal(http.StatusOK), "GET evidence for %s", id)
	return list.Records
}

// words is the vocabulary seeded prompts are made of.
var words = strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima
mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber
basalt cobalt dune ember fjord glacier harbor island jungle kelp lagoon mesa nebula orchard prairie`)

// prompt returns n words: a first word that mixes the run's nonce with a draw of the seeded
// stream, then seeded words. The seed fixes the schedule and the structure, so a run is
// reproducible; the nonce makes every run's prompts its own, so a rerun with the same seed against
// a warm cache finds none of them cached; and because the mix is the first word of each prompt,
// no two prompts share a prefix (a nonce as a shared prefix would itself be a cached prefix).
func prompt(r *rand.Rand, n int) string {
	if n <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(promptTag(r.Uint64()))
	for range n - 1 {
		b.WriteByte(' ')
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.String()
}

// promptTag is a prompt's first word: the run's nonce hashed with one draw of the seeded stream.
func promptTag(draw uint64) string {
	nonce := ""
	if env != nil {
		nonce = env.Nonce
	}
	h := fnv.New64a()
	_, _ = h.Write(binary.LittleEndian.AppendUint64([]byte(nonce), draw)) // a hash.Hash never returns an error
	return fmt.Sprintf("q%012x", h.Sum64()&(1<<48-1))
}

// describe summarises a result for failure messages.
func describe(r driver.Result) string {
	return fmt.Sprintf("status %d, outcome %s/%s, request %s, violations: %s", r.Status, r.Outcome, r.Reason, r.RequestID, listed(r.ContractViolations))
}

// describeEntry is describe for a request a run recorded.
func describeEntry(e chaosledger.Entry) string {
	status := fmt.Sprintf("status %d, ", e.Status)
	if isGRPC(e.Path) {
		status = "" // a gRPC call has no HTTP status; its outcome is in the trailers
	}
	return fmt.Sprintf("%soutcome %s/%s, request %s, violations: %s", status, e.Outcome, e.Reason, e.RequestID, listed(e.Violations))
}

// listed writes names for people: "a, b", or "none" (never Go's "[a b]").
func listed(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
