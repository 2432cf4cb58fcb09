package suites

import (
	"strings"
	"testing"
)

// TestOutputTokensSeesThroughCoalescedMessages: a spliced stream sent four tokens to a message
// has fewer messages than max_tokens but more words; the largest of the three counts is taken.
func TestOutputTokensSeesThroughCoalescedMessages(t *testing.T) {
	spliced := strings.Repeat(" the", 264)
	cases := []struct {
		name         string
		chunks       int
		text         string
		stated, want int
	}{
		{"one token a message", 12, strings.Repeat(" cache", 12), 12, 12},
		{"four tokens a message, spliced", 66, spliced, 256, 264},
		{"a stated count above the rest", 3, " a b c", 7, 7},
		{"no text kept", 9, "", 0, 9},
	}
	for _, tc := range cases {
		if got := outputTokens(tc.chunks, tc.text, tc.stated); got != tc.want {
			t.Errorf("%s: %d tokens, want %d", tc.name, got, tc.want)
		}
	}
}

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
