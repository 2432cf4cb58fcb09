package readmecheck

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// blockTimeout bounds one README block: the slowest, the control plane's, takes about a second.
const blockTimeout = 60 * time.Second

// TestReadmeCommandBlocks runs every command block of README.md, in order, against the runtime
// `make run` starts (the Makefile's own arguments, with its defaults, in a temporary directory).
// A block fails on a non-zero exit or a refusal the README does not show; a block the test cannot
// run must say why in a readme-test marker.
func TestReadmeCommandBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries and takes ports 8080 and 8081, as make run does; make test runs it (without -short)")
	}
	root := moduleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	var run []Block
	for _, b := range blocks {
		switch {
		case !b.Shell():
		case b.Skip != "":
			t.Logf("README.md:%d: skipped: %s", b.Line, b.Skip)
		default:
			run = append(run, b)
		}
	}
	if len(run) == 0 {
		t.Fatal("README.md has no command block to run")
	}

	dir := workspace(t, root)
	args := makeRunArgs(t, root)
	startRuntime(t, dir, args)
	// `make run` keeps durable state by default: JetStream's store under ./aruntime-data.
	if _, err := os.Stat(filepath.Join(dir, "aruntime-data", "jetstream")); err != nil {
		t.Errorf("aruntime %s keeps no durable state in ./aruntime-data: %v", strings.Join(args, " "), err)
	}

	for _, b := range run {
		t.Run(fmt.Sprintf("line_%d", b.Line), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
			defer cancel()
			outcomes, output, err := runBlock(ctx, dir, b.Script)
			if err != nil {
				t.Fatalf("README.md:%d: %v\n%s\noutput:\n%s", b.Line, err, b.Script, output)
			}
			if msg := judge(outcomes, b.Expect); msg != "" {
				t.Errorf("README.md:%d: %s\n%s\noutput:\n%s", b.Line, msg, b.Script, output)
			}
		})
	}
}

// judge says what is wrong with the outcomes a block's responses stated: a refusal the README does
// not show, or a refusal it shows that never came. It returns "" when nothing is.
func judge(outcomes []Outcome, expect []string) string {
	var unexpected []string
	seen := map[string]bool{}
	for _, o := range outcomes {
		if o.Refusal() && !slices.Contains(expect, o.String()) && !seen[o.String()] {
			unexpected = append(unexpected, o.String())
		}
		seen[o.String()] = true
	}
	var missing []string
	for _, e := range expect {
		if !seen[e] {
			missing = append(missing, e)
		}
	}
	switch {
	case len(unexpected) > 0:
		return "refused where the README shows no refusal: " + strings.Join(unexpected, ", ")
	case len(missing) > 0:
		return "the README marks this block as answered " + strings.Join(missing, ", ") + ", which it was not"
	}
	return ""
}
