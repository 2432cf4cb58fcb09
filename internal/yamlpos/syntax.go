package yamlpos

import (
	"bytes"
	"sort"

	"go.yaml.in/yaml/v3"
)

// SyntaxLine returns the line of the token at fault in a YAML syntax error the library reported
// at line with text. For a parser error the library gives the line before the construct it was
// parsing (it prints a 0-based line), often a comment, not the misindented key: "did not find
// expected key" at line 4 for a key at line 16. The first prefix of the file, in whole lines,
// that fails with the same message ends at the line at fault: every longer prefix holds the same
// token, and a shorter one fails otherwise or not at all. It is found by bisection, so the error
// path costs a few parses even for a large file.
func SyntaxLine(data []byte, line int, text string) int {
	if len(data) == 0 || text == "" {
		return line
	}
	ends := lineEnds(data)
	fails := func(n int) bool {
		var node yaml.Node
		err := yaml.Unmarshal(data[:ends[n-1]], &node)
		if err == nil {
			return false
		}
		_, t := splitLine(err.Error())
		return t == text
	}
	lo := max(line, 1)
	if lo > len(ends) || !fails(len(ends)) {
		return line
	}
	return lo + sort.Search(len(ends)-lo+1, func(i int) bool { return fails(lo + i) })
}

// lineEnds returns the offset just past each line of data.
func lineEnds(data []byte) []int {
	var ends []int
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			ends = append(ends, len(data))
			break
		}
		off += i + 1
		ends = append(ends, off)
	}
	return ends
}
