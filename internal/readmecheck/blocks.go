// Package readmecheck finds the command blocks of the README and says how its test treats each:
// run it against the runtime `make run` starts, or skip it for a reason the README states. A
// README whose examples are never run drifts from the runtime it describes; this package keeps
// the list of blocks and their treatment explicit, so a skipped block is visible in the README.
package readmecheck

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// Marker is the HTML comment, invisible when the README is rendered, that sets how the test
// treats the fenced block right after it (blank lines between are allowed):
//
//	<!-- readme-test: skip (why it cannot run in the test) -->
//	<!-- readme-test: expect rejected/unauthenticated, shed/queue_full -->
//
// A shell block without a marker runs and must end without a refusal.
const Marker = "readme-test:"

// shellLanguages are the fence info strings of command blocks. Every fence must name its
// language, so a block cannot escape the test by being unlabelled.
var shellLanguages = map[string]bool{"sh": true, "bash": true, "shell": true, "console": true}

// Block is one fenced block of the README.
type Block struct {
	Line     int    // the line of its opening fence, 1-based
	Language string // the fence's info string
	Script   string // its text, without the fences
	// Skip is the README's reason not to run it; empty means it runs.
	Skip string
	// Expect lists the refusals (class/reason) the README shows this block producing.
	Expect []string
}

// Shell reports whether the block holds commands.
func (b Block) Shell() bool { return shellLanguages[b.Language] }

var (
	markerRE = regexp.MustCompile(`^<!--\s*readme-test:\s*(.*?)\s*-->$`)
	skipRE   = regexp.MustCompile(`^skip\s*\((.+)\)$`)
	expectRE = regexp.MustCompile(`^expect\s+([a-z_]+/[a-z_]+(?:\s*,\s*[a-z_]+/[a-z_]+)*)$`)
)

// Parse returns the README's fenced blocks with the markers that precede them. It fails on a
// fence without a language, an unclosed fence, a malformed marker, a marker that no fence
// follows, or a skip marker on a block that is not a command block.
func Parse(readme string) ([]Block, error) {
	var (
		blocks  []Block
		pending *Block // the marker waiting for its fence
		open    *Block
		body    strings.Builder
		pendAt  int
	)
	sc := bufio.NewScanner(strings.NewReader(readme))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if open != nil {
			if trimmed == "```" {
				open.Script = body.String()
				blocks = append(blocks, *open)
				open = nil
				continue
			}
			body.WriteString(line + "\n")
			continue
		}
		switch {
		case strings.HasPrefix(trimmed, "```"):
			b := Block{Line: n, Language: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
			if b.Language == "" {
				return nil, fmt.Errorf("README.md:%d: a fence without a language: name it (sh for commands, text otherwise)", n)
			}
			if pending != nil {
				if !b.Shell() {
					return nil, fmt.Errorf("README.md:%d: a readme-test marker on a %s block, which is not run anyway", pendAt, b.Language)
				}
				b.Skip, b.Expect = pending.Skip, pending.Expect
				pending = nil
			}
			open = &b
			body.Reset()
		case strings.Contains(trimmed, Marker):
			m, err := parseMarker(trimmed)
			if err != nil {
				return nil, fmt.Errorf("README.md:%d: %w", n, err)
			}
			if pending != nil {
				return nil, fmt.Errorf("README.md:%d: two readme-test markers before one block", n)
			}
			pending, pendAt = &m, n
		case trimmed != "" && pending != nil:
			return nil, fmt.Errorf("README.md:%d: the readme-test marker is not followed by a fenced block", pendAt)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if open != nil {
		return nil, fmt.Errorf("README.md:%d: the fence is never closed", open.Line)
	}
	if pending != nil {
		return nil, fmt.Errorf("README.md:%d: the readme-test marker is not followed by a fenced block", pendAt)
	}
	return blocks, nil
}

// parseMarker reads one marker line: skip with a reason, or expect with the refusals.
func parseMarker(line string) (Block, error) {
	m := markerRE.FindStringSubmatch(line)
	if m == nil {
		return Block{}, fmt.Errorf("a readme-test marker must be a whole line: <!-- readme-test: skip (why) --> or <!-- readme-test: expect class/reason -->")
	}
	if s := skipRE.FindStringSubmatch(m[1]); s != nil && strings.TrimSpace(s[1]) != "" {
		return Block{Skip: strings.TrimSpace(s[1])}, nil
	}
	if e := expectRE.FindStringSubmatch(m[1]); e != nil {
		var b Block
		for _, r := range strings.Split(e[1], ",") {
			b.Expect = append(b.Expect, strings.TrimSpace(r))
		}
		return b, nil
	}
	return Block{}, fmt.Errorf("readme-test marker %q: want skip (why) or expect class/reason", m[1])
}
