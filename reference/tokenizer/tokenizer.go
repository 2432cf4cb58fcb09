// Package tokenizer is the deterministic toy tokenizer shared by the reference
// router and worker.
//
// It exists so that both sides count tokens identically: admission, quotas and
// billing in the router and KV reservation and prefix caching in the worker
// must agree on how many tokens a prompt is, without shipping a real
// vocabulary. Text is split on whitespace, each word is cut into pieces of at
// most PieceRunes runes, and each piece maps to a Token by the FNV-1a 32-bit
// hash of its bytes. Whitespace itself is never a token.
package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Token is one token id. It is the FNV-1a 32-bit hash of the piece's bytes,
// so equal pieces give equal tokens on every machine and in every process.
type Token uint32

// PieceRunes is the longest piece, in runes, a word is cut into; it is small
// so that token counts grow with text length roughly like a real BPE.
const PieceRunes = 4

// FNV-1a 32-bit parameters (see hash/fnv); inlined so hashing a piece does
// not allocate.
const (
	fnvOffset32 uint32 = 2166136261
	fnvPrime32  uint32 = 16777619
)

// Encode splits s into tokens. Invalid UTF-8 bytes count as one rune each, so
// any input encodes without error.
func Encode(s string) []Token {
	out := make([]Token, 0, Count(s))
	each(s, func(piece string) { out = append(out, hashPiece(piece)) })
	return out
}

// Count returns len(Encode(s)) without building the slice; the router uses it
// on the hot admission path.
func Count(s string) int {
	n := 0
	inWord := false
	runes := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if isSpace(r, size) {
			inWord = false
			continue
		}
		if !inWord || runes == PieceRunes {
			n++
			runes = 0
			inWord = true
		}
		runes++
	}
	return n
}

// each calls fn with every piece of s in order.
func each(s string, fn func(piece string)) {
	start := -1 // byte offset of the current piece, -1 when outside a word
	runes := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isSpace(r, size) {
			if start >= 0 {
				fn(s[start:i])
				start = -1
			}
			i += size
			continue
		}
		if start >= 0 && runes == PieceRunes {
			fn(s[start:i])
			start = -1
		}
		if start < 0 {
			start = i
			runes = 0
		}
		runes++
		i += size
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// isSpace reports whether the decoded rune is whitespace. An invalid byte
// (RuneError of size 1) is never whitespace.
func isSpace(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	return unicode.IsSpace(r)
}

// hashPiece is FNV-1a 32-bit over the piece's bytes.
func hashPiece(piece string) Token {
	h := fnvOffset32
	for i := 0; i < len(piece); i++ {
		h ^= uint32(piece[i])
		h *= fnvPrime32
	}
	return Token(h)
}
