package target

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestYAMLSyntaxAtTheLineAtFault: a YAML syntax error is reported at the line to fix (the
// misindented key), not at the comment the YAML library's context points to.
func TestYAMLSyntaxAtTheLineAtFault(t *testing.T) {
	b, err := os.ReadFile("../../fixtures/targets/example-openai-compatible.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Split(string(b), "\n")
	indexOf := func(prefix string) int {
		for i, l := range base {
			if strings.HasPrefix(l, prefix) {
				return i
			}
		}
		t.Fatalf("the example has no line starting %q", prefix)
		return -1
	}
	const notKey = "did not find expected key (is this line indented like the keys it belongs with?)"
	tests := []struct {
		name    string
		at      int    // the line index the edit replaces
		line    string // its new text
		message string
	}{
		// Comments come just before features: the library blamed the last line before them.
		{"a key one space in, after comments", indexOf("features:"), " features: [outcomes]", notKey},
		{"a key under pins one space out", indexOf("  policy_version:"), " policy_version: policy-2026-10-15", notKey},
		{"a key one space too deep", indexOf("  policy_version:"), "   policy_version: policy-2026-10-15", "mapping values are not allowed in this context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines := append([]string(nil), base...)
			lines[tc.at] = tc.line
			_, err := Parse("bad.yaml", []byte(strings.Join(lines, "\n")))
			want := "bad.yaml:" + strconv.Itoa(tc.at+1) + ": " + tc.message
			if err == nil || err.Error() != want {
				t.Fatalf("got %v\nwant %s", err, want)
			}
		})
	}
}
