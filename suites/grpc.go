package suites

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/outcome"
)

var _ = Describe("gRPC", func() {
	It("states the outcome in trailers on served and refused calls", Req("OUT-9"), func(ctx SpecContext) {
		Expect(env.GRPC).NotTo(BeNil(), "the target declares grpc without an endpoint")
		a := tenantA()
		ok, err := env.GRPC.Complete(ctx, a.Key, &arcertv1.CompleteRequest{Model: model().Name,
			Messages: []*arcertv1.ChatMessage{{Role: "user", Content: "hello over gRPC"}}, MaxTokens: 4})
		Expect(err).NotTo(HaveOccurred())
		Expect(ok.ContractViolations).To(BeEmpty())
		Expect(ok.Outcome).To(Equal(outcome.Completed))
		Expect(ok.Tokens).To(BeNumerically(">", 0))
		bad, err := env.GRPC.Complete(ctx, "arcert-not-a-key", &arcertv1.CompleteRequest{Model: model().Name, Prompt: "hi", MaxTokens: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(bad.ContractViolations).To(BeEmpty())
		Expect(bad.Outcome).To(Equal(outcome.Rejected))
		evidence("served: %s %s/%s by %s, %d tokens, TTFT %s; unknown key: %s %s/%s", ok.Code, ok.Outcome, ok.Reason, ok.ServedBy, ok.Tokens, ok.TTFT, bad.Code, bad.Outcome, bad.Reason)
	}, SpecTimeout(specTimeout))
})
