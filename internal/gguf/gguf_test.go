package gguf

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	parser "github.com/gpustack/gguf-parser-go"
)

var testWords = strings.Fields("alpha bravo nebula prairie")

// writeModel writes the tiny model for seed into a temporary file and returns its path and bytes.
func writeModel(t *testing.T, seed uint64) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := TinyLlama(seed, testWords).Build().Write(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

// TestTinyLlamaParses: an independent GGUF reader (gpustack's, which reads files as llama.cpp
// does) finds a v3 llama model with the configured sizes, every tensor at its shape, and the
// whole vocabulary: a mistake in offsets, alignment or value encoding breaks one of these.
func TestTinyLlamaParses(t *testing.T) {
	path, _ := writeModel(t, 7)
	gf, err := parser.ParseGGUFFile(path)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if gf.Header.Version != parser.GGUFVersionV3 {
		t.Errorf("version %v, want 3", gf.Header.Version)
	}
	a := gf.Architecture()
	if a.Architecture != "llama" || a.EmbeddingLength != 128 || a.BlockCount != 2 ||
		a.MaximumContextLength != 2048 || a.AttentionHeadCount != 4 || !slices.Equal(a.FeedForwardLength, []uint64{384, 384}) {
		t.Errorf("architecture %s, embedding %d, blocks %d, context %d, heads %d, ffn %v",
			a.Architecture, a.EmbeddingLength, a.BlockCount, a.MaximumContextLength, a.AttentionHeadCount, a.FeedForwardLength)
	}
	tokens, _, types := Vocabulary(testWords)
	tk := gf.Tokenizer()
	if tk.Model != "llama" || tk.TokensLength != uint64(len(tokens)) || tk.BOSTokenID != BOSID || tk.EOSTokenID != EOSID {
		t.Errorf("tokenizer %s with %d tokens, bos %d, eos %d; want llama, %d, %d, %d",
			tk.Model, tk.TokensLength, tk.BOSTokenID, tk.EOSTokenID, len(tokens), BOSID, EOSID)
	}
	nv := uint64(len(tokens))
	want := map[string][]uint64{
		"token_embd.weight":        {128, nv},
		"output.weight":            {128, nv},
		"output_norm.weight":       {128},
		"blk.0.attn_q.weight":      {128, 128},
		"blk.1.attn_norm.weight":   {128},
		"blk.1.ffn_gate.weight":    {128, 384},
		"blk.1.ffn_down.weight":    {384, 128},
		"blk.0.attn_output.weight": {128, 128},
	}
	if len(gf.TensorInfos) != 3+9*2 {
		t.Errorf("%d tensors, want %d", len(gf.TensorInfos), 3+9*2)
	}
	for _, ti := range gf.TensorInfos {
		if ti.Type != parser.GGMLTypeF32 {
			t.Errorf("tensor %s has type %v, want F32", ti.Name, ti.Type)
		}
		if dims, ok := want[ti.Name]; ok {
			if !slices.Equal(ti.Dimensions, dims) {
				t.Errorf("tensor %s dims %v, want %v", ti.Name, ti.Dimensions, dims)
			}
			delete(want, ti.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("tensors missing: %v", want)
	}
	bytesTokens := 0
	for _, ty := range types {
		if ty == tokenByte {
			bytesTokens++
		}
	}
	if bytesTokens != 256 || tokens[3] != "<0x00>" || tokens[258] != "<0xFF>" {
		t.Errorf("%d byte-fallback tokens, first %q, last %q", bytesTokens, tokens[3], tokens[258])
	}
}

// TestSameSeedSameBytes: a seed is a model; another seed is another model of the same shape.
func TestSameSeedSameBytes(t *testing.T) {
	_, a := writeModel(t, 3)
	_, b := writeModel(t, 3)
	_, c := writeModel(t, 4)
	if !bytes.Equal(a, b) {
		t.Fatal("two writes with seed 3 differ")
	}
	if bytes.Equal(a, c) || len(a) != len(c) {
		t.Fatalf("seeds 3 and 4: equal %v, sizes %d and %d (want different bytes, same size)", bytes.Equal(a, c), len(a), len(c))
	}
}

// TestVocabularyHoldsWordsAndPrefixes: every word is a word-start piece and so is each prefix
// (SentencePiece only merges into pieces that exist), and no piece appears twice.
func TestVocabularyHoldsWordsAndPrefixes(t *testing.T) {
	tokens, scores, types := Vocabulary(testWords)
	if len(scores) != len(tokens) || len(types) != len(tokens) {
		t.Fatalf("%d tokens, %d scores, %d types", len(tokens), len(scores), len(types))
	}
	index := map[string]int{}
	for i, tk := range tokens {
		if _, dup := index[tk]; dup {
			t.Errorf("piece %q appears twice", tk)
		}
		index[tk] = i
	}
	for _, w := range append(testWords, "the", "hello") {
		for i := 1; i <= len(w); i++ {
			if _, ok := index[spaceMark+w[:i]]; !ok {
				t.Errorf("piece %q is missing", spaceMark+w[:i])
			}
		}
		if scores[index[spaceMark+w]] <= scores[index[spaceMark+w[:1]]] {
			t.Errorf("%q does not outscore its first letter", w)
		}
	}
}

// TestWriteRefusesMismatchedTensor: a tensor whose data does not fill its dims is an error, not
// a file llama.cpp would read past the end of.
func TestWriteRefusesMismatchedTensor(t *testing.T) {
	f := &File{Tensors: []Tensor{{Name: "x", Dims: []uint64{2, 3}, Data: make([]float32, 5)}}}
	if err := f.Write(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "tensor x") {
		t.Fatalf("got %v, want an error naming tensor x", err)
	}
}

// TestOutputFavoursVisibleText: every embedding carries the constant dimension 0, and only the
// output rows of control, unknown and byte tokens read it negatively, so a sampled token is
// ordinary text (a one-token stream then always delivers content).
func TestOutputFavoursVisibleText(t *testing.T) {
	f := TinyLlama(1, testWords).Build()
	tokens, _, types := Vocabulary(testWords)
	byName := map[string]Tensor{}
	for _, tn := range f.Tensors {
		byName[tn.Name] = tn
	}
	embd, out := byName["token_embd.weight"], byName["output.weight"]
	for tok := range tokens {
		if embd.Data[tok*128] != 1 {
			t.Fatalf("token %q: embedding dimension 0 is %v, want 1", tokens[tok], embd.Data[tok*128])
		}
		if neg := out.Data[tok*128] == -1; neg != (types[tok] != tokenNormal) {
			t.Fatalf("token %q of type %d: output dimension 0 is %v", tokens[tok], types[tok], out.Data[tok*128])
		}
	}
}
