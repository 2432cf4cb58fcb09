package suites

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// delivered is how many tokens a stream's client received, as far as the client can tell without
// the runtime's tokenizer: exactly its content messages when it is known to send a token a message
// (none of its messages carries more than one word, and the runtime's served streams stated no
// more tokens than messages, as the reference and llama.cpp's servers do), else a range from the
// most of its messages and words (every message and every word is at least one token) to its bytes
// (a token is at least one byte). A bill is judged against it: exactly where the count is exact,
// and only outside the range where a runtime sends several tokens to a message, so such a runtime
// is never failed for billing tokens the client cannot count one by one.
type delivered struct{ least, most int }

// deliveredOf is delivered of a stream that brought messages content messages carrying text,
// from a runtime taken to send a token a message unless a message carried several words.
func deliveredOf(messages int, text string) delivered {
	words := len(strings.Fields(text))
	if words <= messages {
		return delivered{messages, messages}
	}
	return rangeOf(messages, text)
}

// rangeOf is delivered's range for a stream whose messages may carry several tokens each.
func rangeOf(messages int, text string) delivered {
	least := max(messages, len(strings.Fields(text)))
	return delivered{least, max(least, len(text))}
}

// perMessageSlack is how far a cut stream's tokens a message may stray from the average its
// runtime's served streams stated (narrowedBy): a runtime that flushes on a timer sends fuller
// messages under load and a short first one for its time to first token.
const perMessageSlack = 2

// narrowedBy narrows a range by what the runtime's served streams over the same wire stated:
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

// on is the path a sample judged against d counts on: path itself for an exact count, path
// marked tokenRange for a range, so a PASS says how many of its samples rest on a range.
func (d delivered) on(path string) string {
	if d.exact() {
		return path
	}
	return path + tokenRange
}

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

// statedTokens is what a runtime's served streams over one wire stated of their tokens: how many
// a content message carried on average, and whether any stated more than one token beyond its
// messages (then its messages are only a floor, whatever words they carry). The zero value knows
// nothing and takes the runtime to send a token a message unless a message carries several words.
type statedTokens struct {
	stated, messages int
	severalAMessage  bool
}

// add counts a served stream that brought messages content messages and stated completion tokens.
func (c *statedTokens) add(messages, completion int) {
	c.stated += completion
	c.messages += messages
	c.severalAMessage = c.severalAMessage || completion > messages+1
}

// of is delivered of a stream over the wire that brought messages content messages carrying text.
func (c statedTokens) of(messages int, text string) delivered {
	d := deliveredOf(messages, text)
	if d.exact() && c.severalAMessage {
		d = rangeOf(messages, text)
	}
	if c.messages == 0 {
		return d
	}
	return d.narrowedBy(float64(c.stated)/float64(c.messages), messages)
}
