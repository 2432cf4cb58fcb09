// Command tinymodel writes the tiny seeded llama model the project certifies third-party
// runtimes with (see internal/gguf.TinyLlama), since no weights can be downloaded here:
//
//	go run ./internal/tools/tinymodel -seed 1 -out model.gguf
//
// The same seed writes the same bytes; the file's SHA-256 is printed as sha256:HEX so it can be
// pinned as a target's artifact_digest.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aruntime/arcert/internal/gguf"
)

// harnessWords are the words the suites' seeded prompts are made of (words in suites/helpers.go;
// a test checks they match), so each prompt word is one token, as on a real model.
var harnessWords = strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima
mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber
basalt cobalt dune ember fjord glacier harbor island jungle kelp lagoon mesa nebula orchard prairie`)

func main() {
	seed := flag.Uint64("seed", 1, "seed of the random weights")
	out := flag.String("out", "tiny-llama.gguf", "file to write")
	flag.Parse()
	digest, err := write(*out, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tinymodel:", err)
		os.Exit(1)
	}
	fmt.Println(digest)
}

// write writes the model to path through a temporary file, so a reader never sees half a model,
// and returns its digest.
func write(path string, seed uint64) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tinymodel-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if err := gguf.TinyLlama(seed, harnessWords).Build().Write(io.MultiWriter(tmp, h)); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
