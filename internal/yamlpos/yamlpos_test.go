package yamlpos

import (
	"errors"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSyntaxLine: the library's line for a misindented key is the line before its mapping
// (here a comment); SyntaxLine moves it to the key, and leaves a line that was right alone.
func TestSyntaxLine(t *testing.T) {
	tests := []struct {
		name, doc string
		want      int
	}{
		{"misindented key after comments", "a:\n  b: 1\n# one\n# two\n c: 2\nd: 3\n", 5},
		{"scanner error, already right", "a:\n  b: 1\n   c: 2\n", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tc.doc), &n)
			if err == nil {
				t.Fatal("parsed")
			}
			ms := Messages(err, Source{Data: []byte(tc.doc)})
			if len(ms) != 1 || ms[0].Line != tc.want {
				t.Fatalf("got %+v from %q, want line %d", ms, err, tc.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	known := []string{"drain_timeout", "retry_after", "http_listen"}
	for name, want := range map[string]string{"drain_timeot": "drain_timeout", "retryafter": "retry_after", "colour": "", "": ""} {
		if got := closest(name, known); got != want {
			t.Errorf("closest(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestMessagesOfAnotherError(t *testing.T) {
	ms := Messages(errors.New("yaml: line 3: found character that cannot start any token"), Source{})
	if len(ms) != 1 || ms[0].Line != 3 || ms[0].Text != "found character that cannot start any token" {
		t.Fatalf("got %+v", ms)
	}
}
