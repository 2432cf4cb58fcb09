package main

import (
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestHarnessWordsAreTheSuitesWords: the model holds the words the suites' prompts are made of,
// read from suites/helpers.go itself, so a change there cannot leave prompts spelt out in bytes.
func TestHarnessWordsAreTheSuitesWords(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../../suites/helpers.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var suites []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "words" || len(vs.Values) != 1 {
			return true
		}
		ast.Inspect(vs.Values[0], func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				suites = strings.Fields(s)
			}
			return true
		})
		return false
	})
	if len(suites) == 0 {
		t.Fatal("found no words in suites/helpers.go")
	}
	if !slices.Equal(suites, harnessWords) {
		t.Fatalf("suites/helpers.go words %v\ntinymodel harnessWords %v", suites, harnessWords)
	}
}

// TestWritePrintsTheFilesDigest: the digest printed is the file's, and the seed decides it.
func TestWritePrintsTheFilesDigest(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "b.gguf")
	da, err := write(a, 5)
	if err != nil {
		t.Fatal(err)
	}
	db, err := write(b, 5)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if da != "sha256:"+hex.EncodeToString(sum[:]) || da != db {
		t.Fatalf("digests %s and %s, file's sha256:%x", da, db, sum)
	}
	if dc, err := write(b, 6); err != nil || dc == da {
		t.Fatalf("seed 6 gave %s (err %v), the same as seed 5", dc, err)
	}
}
