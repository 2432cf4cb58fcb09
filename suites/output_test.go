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
