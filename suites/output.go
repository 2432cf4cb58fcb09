package suites

import (
	"strings"

	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/grpcdriver"
)

// outputTokens is how many tokens a stream's client received, at least: the most of its content
// messages (chunks), the words of its text, and the completion tokens the runtime stated. A
// runtime may put several tokens in one message (many flush every few tokens), so counting
// messages alone would miss a stream spliced past its max_tokens; a word is at least one token
// for the word-splitting tokenizers of the models certified here (each word of the reference's
// simulated model is one token), so the words are a floor the runtime cannot talk down, which a
// stated count it may take from the second run of a spliced stream is not.
func outputTokens(chunks int, text string, stated int) int {
	return max(chunks, len(strings.Fields(text)), stated)
}

// httpOutput is outputTokens of an HTTP answer.
func httpOutput(res driver.Result) int {
	return outputTokens(res.Tokens, res.Text, res.Usage.CompletionTokens)
}

// grpcOutput is outputTokens of a gRPC call.
func grpcOutput(res grpcdriver.Result) int {
	return outputTokens(res.Tokens, res.Text, int(res.Usage.GetCompletionTokens()))
}
