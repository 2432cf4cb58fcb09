package gguf

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// LlamaConfig sizes a llama-architecture model with random weights.
type LlamaConfig struct {
	Seed          uint64
	Embedding     int // n_embd
	Layers        int
	FeedForward   int
	Heads         int
	ContextLength int
	// Words are whole-word tokens the vocabulary holds (with every prefix, so SentencePiece
	// merges reach them): prompts made of them tokenize one token a word, as on a real model.
	Words []string
}

// TinyLlama is the model the project certifies third-party runtimes with: small enough to
// prefill 800 words in a fraction of a second on two CPU cores, real enough that llama.cpp and
// Ollama load and run it like any llama model.
func TinyLlama(seed uint64, words []string) LlamaConfig {
	return LlamaConfig{Seed: seed, Embedding: 128, Layers: 2, FeedForward: 384, Heads: 4, ContextLength: 2048, Words: words}
}

// Token ids of the special tokens, as in Llama 2's SentencePiece vocabulary.
const (
	UnknownID = 0
	BOSID     = 1
	EOSID     = 2
)

// SentencePiece token types (tokenizer.ggml.token_type).
const (
	tokenNormal  int32 = 1
	tokenUnknown int32 = 2
	tokenControl int32 = 3
	tokenByte    int32 = 6
)

// spaceMark is SentencePiece's word-start marker, standing for the space before a word.
const spaceMark = "▁"

// englishWords are common words, so ordinary English prompts tokenize mostly into whole words.
var englishWords = strings.Fields(`the a an and or but if then else of to in on at by for with from
as is are was were be been being it its this that these those there here what which who whom whose
when where why how all any both each few more most other some such no not only own same so than too
very can will just should now i you he she we they me him her us them my your his our their
hello world answer question request response model token word text prompt reply say tell write
count list repeat story short long one two three four five six seven eight nine ten yes ok please
thank thanks good bad new old first last next time day year way man woman child people thing
make made go went come came see saw know knew get got give gave take took think use find want
test tests cache tenant user key data stream system assistant`)

// Vocabulary builds the SentencePiece vocabulary: <unk>, <s>, </s>, the 256 byte-fallback
// tokens, then pieces in a fixed order. Every prefix of a word is a piece, scored by its length,
// so the longest piece wins each merge. Returns tokens, scores and types, index-aligned.
func Vocabulary(words []string) ([]string, []float32, []int32) {
	tokens := []string{"<unk>", "<s>", "</s>"}
	scores := []float32{0, 0, 0}
	types := []int32{tokenUnknown, tokenControl, tokenControl}
	for b := range 256 {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		scores = append(scores, 0)
		types = append(types, tokenByte)
	}
	seen := map[string]bool{}
	add := func(piece string) {
		if piece == "" || seen[piece] {
			return
		}
		seen[piece] = true
		tokens = append(tokens, piece)
		scores = append(scores, float32(len([]rune(piece))))
		types = append(types, tokenNormal)
	}
	add(spaceMark)
	for _, r := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?:;'\"-()/" {
		add(string(r))
		add(spaceMark + string(r))
	}
	all := append(append([]string(nil), words...), englishWords...)
	for _, w := range all {
		for _, form := range []string{w, strings.ToUpper(w[:1]) + w[1:]} {
			rs := []rune(form)
			for i := 1; i <= len(rs); i++ {
				add(spaceMark + string(rs[:i]))
				add(string(rs[:i]))
			}
		}
	}
	return tokens, scores, types
}

// Build returns the model as a GGUF file: llama metadata, the vocabulary, and weights drawn
// from a PCG seeded with c.Seed (normal, σ 0.02; norms 1), so a seed always gives the same bytes.
// Tensor data is laid out as ggml reads it: row r of a {n, m} tensor is Data[r*n:(r+1)*n].
func (c LlamaConfig) Build() *File {
	tokens, scores, types := Vocabulary(c.Words)
	nv, ne, nf := uint64(len(tokens)), uint64(c.Embedding), uint64(c.FeedForward)
	head := uint32(c.Embedding / c.Heads)
	f := &File{KV: []KV{
		{"general.architecture", "llama"},
		{"general.name", fmt.Sprintf("arcert-tiny-llama-seed%d", c.Seed)},
		{"general.file_type", uint32(0)}, // all F32
		{"llama.context_length", uint32(c.ContextLength)},
		{"llama.embedding_length", uint32(c.Embedding)},
		{"llama.block_count", uint32(c.Layers)},
		{"llama.feed_forward_length", uint32(c.FeedForward)},
		{"llama.attention.head_count", uint32(c.Heads)},
		{"llama.attention.head_count_kv", uint32(c.Heads)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"llama.rope.dimension_count", head},
		{"llama.rope.freq_base", float32(10000)},
		{"llama.vocab_size", uint32(nv)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.bos_token_id", uint32(BOSID)},
		{"tokenizer.ggml.eos_token_id", uint32(EOSID)},
		{"tokenizer.ggml.unknown_token_id", uint32(UnknownID)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
	}}
	r := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	normal := func(dims ...uint64) []float32 {
		n := uint64(1)
		for _, d := range dims {
			n *= d
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(r.NormFloat64() * 0.02)
		}
		return out
	}
	ones := func(n uint64) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = 1
		}
		return out
	}
	add := func(name string, data []float32, dims ...uint64) {
		f.Tensors = append(f.Tensors, Tensor{Name: name, Dims: dims, Data: data})
	}
	// Dimension 0 of every embedding is 1, far above the noise, so after RMS norm it dominates
	// the hidden state; the output rows of control, unknown and byte tokens read it negatively.
	// A random model would otherwise often pick them: end-of-sequence at once, or half a UTF-8
	// character, and a one-token answer would carry no visible text. Ordinary pieces are sampled
	// among themselves, and every answer runs to max_tokens.
	embd := normal(ne, nv)
	for tok := range nv {
		embd[tok*ne] = 1
	}
	out := normal(ne, nv)
	for tok, ty := range types {
		if ty != tokenNormal {
			out[uint64(tok)*ne] = -1
		}
	}
	add("token_embd.weight", embd, ne, nv)
	for l := range c.Layers {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", ones(ne), ne)
		add(p+"attn_q.weight", normal(ne, ne), ne, ne)
		add(p+"attn_k.weight", normal(ne, ne), ne, ne)
		add(p+"attn_v.weight", normal(ne, ne), ne, ne)
		add(p+"attn_output.weight", normal(ne, ne), ne, ne)
		add(p+"ffn_norm.weight", ones(ne), ne)
		add(p+"ffn_gate.weight", normal(ne, nf), ne, nf)
		add(p+"ffn_up.weight", normal(ne, nf), ne, nf)
		add(p+"ffn_down.weight", normal(nf, ne), nf, ne)
	}
	add("output_norm.weight", ones(ne), ne)
	add("output.weight", out, ne, nv)
	return f
}
