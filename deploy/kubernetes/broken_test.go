package kubernetes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// edit replaces every occurrence of old in file (relative to deploy/kubernetes) with new; an
// empty old writes new as the whole file.
type edit struct{ file, old, new string }

// broken is a manifest broken one way, and what the checks must say about it.
type broken struct {
	name    string
	overlay string
	edits   []edit
	want    string
}

// mutate copies base/ and overlays/ to a temporary directory and applies edits, failing the test
// when an edit does not apply (the case would then check nothing).
func mutate(t *testing.T, edits []edit) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"base", "overlays"} {
		if err := os.CopyFS(filepath.Join(dir, sub), os.DirFS(sub)); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range edits {
		p := filepath.Join(dir, e.file)
		data, err := os.ReadFile(p)
		if e.old != "" && err != nil {
			t.Fatal(err)
		}
		out := e.new
		if e.old != "" {
			if !strings.Contains(string(data), e.old) {
				t.Fatalf("edit of %s does not apply: %q is not in it", e.file, e.old)
			}
			out = strings.ReplaceAll(string(data), e.old, e.new)
		}
		if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkAll runs every check an overlay must pass: Load (build and strict decoding), Check and,
// for production, CheckProduction.
func checkAll(dir, overlay string) error {
	m, err := Load(filepath.Join(dir, overlay))
	if err != nil {
		return err
	}
	if err := m.Check(); err != nil {
		return err
	}
	if strings.HasSuffix(overlay, "production") {
		return m.CheckProduction()
	}
	return nil
}

func runBroken(t *testing.T, cases []broken) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkAll(mutate(t, c.edits), c.overlay)
			if err == nil {
				t.Fatalf("the checks accept it; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error does not say %q:\n%v", c.want, err)
			}
		})
	}
}

// TestUnchangedCopyPasses is the control of the broken cases: the copy they edit passes as is.
func TestUnchangedCopyPasses(t *testing.T) {
	dir := mutate(t, nil)
	for _, o := range overlays {
		if err := checkAll(dir, o); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
}
