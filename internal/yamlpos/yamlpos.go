// Package yamlpos locates mistakes in YAML files by line, for the two parsers whose errors must
// name the file, line and field: the runtime's configuration and the harness's target files.
package yamlpos

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Line finds the line of a field path such as "tenants[1].keys[0].key" in the YAML tree,
// falling back to the nearest enclosing node that exists (a missing field is reported at its
// parent).
func Line(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, part := range split(path) {
		if idx, err := strconv.Atoi(part); err == nil {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
			continue
		}
		next := mapValue(n, part)
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

// split splits "a.b[2].c" into a, b, 2, c.
func split(path string) []string {
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	var out []string
	for _, p := range strings.Split(path, ".") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// MaxReported is how many mistakes a parser reports before it summarises the rest: enough to
// fix a file in one pass, few enough that a file with a million mistakes costs no more to reject
// than one with fifty.
const MaxReported = 50

// Capped returns at most MaxReported of n mistakes and, when some were left out, how many.
func Capped(n int) (shown, omitted int) {
	if n <= MaxReported {
		return n, 0
	}
	return MaxReported, n - MaxReported
}
