package suites

import (
	"strings"
	"testing"
)

// TestDeliveredCountsMessagesOrBoundsTheirTokens: one word (or less) to a message is a token a
// message, counted exactly; several words to a message give a range from the words to the bytes,
// which holds the runtime's true count and refuses a bill beyond it either way.
func TestDeliveredCountsMessagesOrBoundsTheirTokens(t *testing.T) {
	exact := deliveredOf(3, "one two three")
	if !exact.exact() || exact.least != 3 || !exact.holds(4, 1) || exact.holds(5, 1) || exact.String() != "3" {
		t.Errorf("a word a message: %+v (%s)", exact, exact)
	}
	if sub := deliveredOf(5, "unbelievable words"); !sub.exact() || sub.least != 5 {
		t.Errorf("sub-word tokens, more messages than words: %+v", sub)
	}
	coalesced := deliveredOf(2, "one two three four")
	if coalesced.exact() || coalesced.least != 4 || coalesced.most != len("one two three four") {
		t.Errorf("four words in two messages: %+v", coalesced)
	}
	if !coalesced.holds(8, 0) || coalesced.holds(2, 0) || coalesced.holds(64, 1) {
		t.Errorf("four words in two messages hold 8, not 2 (the messages) nor 64 (past its bytes): %+v", coalesced)
	}
}

// TestNarrowedByTheStatedTokensAMessage: a cut stream of 6 messages from a runtime whose
// completed streams stated 4 tokens a message carried 10 to 56 tokens, within its words and
// bytes; a bill of the 64 requested falls outside. An exact count, no estimate, or an estimate
// that misses the range leaves it as it was.
func TestNarrowedByTheStatedTokensAMessage(t *testing.T) {
	text := strings.Repeat("word ", 24)
	d := deliveredOf(6, text).narrowedBy(4, 6)
	if d.least != 24 || d.most != 56 || d.holds(64, 1) || !d.holds(24, 0) {
		t.Errorf("6 messages at 4 tokens a message, 24 words in %d bytes: %+v", len(text), d)
	}
	if got := deliveredOf(6, "a b c d e f").narrowedBy(4, 6); !got.exact() || got.least != 6 {
		t.Errorf("an exact count was narrowed: %+v", got)
	}
	wide := deliveredOf(6, text)
	if got := wide.narrowedBy(0, 6); got != wide {
		t.Errorf("no estimate narrowed %+v to %+v", wide, got)
	}
	if got := wide.narrowedBy(100, 6); got != wide {
		t.Errorf("an estimate past the bytes narrowed %+v to %+v", wide, got)
	}
}

// TestStatedTokensSayWhetherMessagesAreTokens: a wire whose served stream stated more tokens than
// messages (beyond one) makes even a word-a-message stream a range from its messages; a wire that
// stated a token a message, or stated nothing, keeps the exact count.
func TestStatedTokensSayWhetherMessagesAreTokens(t *testing.T) {
	text := strings.Repeat("w ", 13)
	var none statedTokens
	if got := none.of(13, text); !got.exact() || got.least != 13 {
		t.Errorf("nothing stated: %+v", got)
	}
	var one statedTokens
	one.add(16, 17) // one token beyond its messages: an end-of-text token, say
	if got := one.of(13, text); !got.exact() || got.least != 13 {
		t.Errorf("a token a message stated: %+v", got)
	}
	var several statedTokens
	several.add(13, 16)
	got := several.of(13, text)
	if got.exact() || !got.holds(16, 0) || got.holds(12, 0) {
		t.Errorf("16 tokens stated for 13 messages: a 13-message stream carried %+v, want a range from 13 holding 16", got)
	}
}
