package suites

import (
	"fmt"
	"math"
	"strconv"
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

// delivered is how many tokens a stream's client received, as far as the client can tell without
// the runtime's tokenizer: exactly its content messages when none carries more than one word (a
// runtime streaming a token a message, as the reference and llama.cpp's servers do), else a range
// from the words (a floor, as for outputTokens) to the bytes of its text (a ceiling: a token is
// at least one byte). A bill is judged against it: exactly where the count is exact, and only
// outside the range where a runtime sends several tokens to a message, so such a runtime is never
// failed for billing tokens the client cannot count one by one.
type delivered struct{ least, most int }

// deliveredOf is delivered of a stream that brought messages content messages carrying text.
func deliveredOf(messages int, text string) delivered {
	words := len(strings.Fields(text))
	if words <= messages {
		return delivered{messages, messages}
	}
	return delivered{words, max(words, len(text))}
}

// perMessageSlack is how far a cut stream's tokens a message may stray from the average its
// runtime's completed streams stated (narrowedBy): a runtime that flushes on a timer sends fuller
// messages under load and a short first one for its time to first token.
const perMessageSlack = 2

// narrowedBy narrows a range by what the runtime's completed streams over the same path stated:
// perMessage tokens a message on average, so messages carried from (messages-1)·perMessage/2 to
// (messages+1)·perMessage·2. It only ever narrows (a runtime overstating its usage widens
// nothing beyond the words and bytes), and an estimate that misses the range is not used.
func (d delivered) narrowedBy(perMessage float64, messages int) delivered {
	if d.exact() || perMessage <= 0 {
		return d
	}
	n := delivered{
		least: max(d.least, int(math.Floor(float64(messages-1)*perMessage/perMessageSlack))),
		most:  min(d.most, int(math.Ceil(float64(messages+1)*perMessage*perMessageSlack))),
	}
	if n.least > n.most {
		return d
	}
	return n
}

// exact reports whether the client's count is exact.
func (d delivered) exact() bool { return d.least == d.most }

// holds reports whether n tokens, within slack (a message in flight as the stream was cut),
// could be what the client received.
func (d delivered) holds(n, slack int) bool { return n >= d.least-slack && n <= d.most+slack }

// String is the count, or its range.
func (d delivered) String() string {
	if d.exact() {
		return strconv.Itoa(d.least)
	}
	return fmt.Sprintf("%d to %d (several tokens a message)", d.least, d.most)
}
