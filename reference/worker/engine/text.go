package engine

import "github.com/aruntime/arcert/reference/tokenizer"

// vocabulary is what the simulated model says. Each entry carries its
// leading space so emitting a token never allocates.
var vocabulary = [...]string{
	" the", " a", " model", " runtime", " token", " cache", " prefix", " batch",
	" queue", " tenant", " worker", " router", " device", " memory", " request", " stream",
	" is", " was", " will", " can", " not", " and", " or", " then",
	" fast", " slow", " warm", " cold", " ready", " done", " again", " here",
}

// FNV-1a 64-bit parameters (see hash/fnv), inlined to avoid allocating a
// hash.Hash per request.
const (
	fnvOffset64 uint64 = 14695981039346656037
	fnvPrime64  uint64 = 1099511628211
)

func fnvByte(h uint64, b byte) uint64 { return (h ^ uint64(b)) * fnvPrime64 }

func fnvUint64(h, v uint64) uint64 {
	for i := 0; i < 64; i += 8 {
		h = fnvByte(h, byte(v>>i))
	}
	return h
}

// outputSeed hashes everything the output depends on, so that the same
// (model, prompt, seed) always produces the same text on any worker, which
// lets the harness compare responses across workers and retries.
func outputSeed(model string, prompt []tokenizer.Token, seed int64) uint64 {
	h := fnvOffset64
	for i := 0; i < len(model); i++ {
		h = fnvByte(h, model[i])
	}
	h = fnvByte(h, 0) // separates the model name from the prompt
	for _, t := range prompt {
		for i := 0; i < 32; i += 8 {
			h = fnvByte(h, byte(uint32(t)>>i))
		}
	}
	return fnvUint64(h, uint64(seed))
}

// tokenText returns the text of generated token i. FNV's low bits barely
// depend on the high bits of its input, so the hash is finalized (the
// MurmurHash3 fmix64 step) before reducing it to a vocabulary index.
func tokenText(base uint64, i int) string {
	h := fnvUint64(base, uint64(i))
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return vocabulary[h%uint64(len(vocabulary))]
}
