package tokenizer

import (
	"hash/fnv"
	"strings"
	"testing"
	"unicode/utf8"
)

func fnvToken(s string) Token {
	h := fnv.New32a()
	h.Write([]byte(s))
	return Token(h.Sum32())
}

func TestEncode(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   \t\n", nil},
		{"hi", []string{"hi"}},
		{"hello world", []string{"hell", "o", "worl", "d"}},
		{"  abcd  efgh ", []string{"abcd", "efgh"}},
		{"abcdefghi", []string{"abcd", "efgh", "i"}},
		{"héllo", []string{"héll", "o"}},
		{"日本語のテキスト", []string{"日本語の", "テキスト"}},
		{"a\xffb", []string{"a\xffb"}},
		{"\xff\xfe\xfd\xfc\xfb", []string{"\xff\xfe\xfd\xfc", "\xfb"}},
		{"a\u00a0b", []string{"a", "b"}}, // non-breaking space is whitespace
	}
	for _, tt := range tests {
		got := Encode(tt.in)
		if len(got) != len(tt.want) {
			t.Fatalf("Encode(%q) = %d tokens, want %d", tt.in, len(got), len(tt.want))
		}
		for i, w := range tt.want {
			if got[i] != fnvToken(w) {
				t.Errorf("Encode(%q)[%d] = %d, want fnv(%q) = %d", tt.in, i, got[i], w, fnvToken(w))
			}
		}
		if c := Count(tt.in); c != len(tt.want) {
			t.Errorf("Count(%q) = %d, want %d", tt.in, c, len(tt.want))
		}
	}
}

func TestEncodeDeterministic(t *testing.T) {
	s := strings.Repeat("the quick brown fox ", 50)
	a, b := Encode(s), Encode(s)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("token %d differs between runs", i)
		}
	}
}

func TestCountDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("lorem ipsum dolor sit amet ", 20)
	if n := testing.AllocsPerRun(100, func() { Count(s) }); n != 0 {
		t.Fatalf("Count allocates %v times, want 0", n)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "hello world", "a\xffb", "日本語のテキスト", "  x  ", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Encode(s)
		if c := Count(s); c != len(toks) {
			t.Fatalf("Count(%q) = %d, len(Encode) = %d", s, c, len(toks))
		}
		if utf8.RuneCountInString(s) < len(toks) {
			t.Fatalf("more tokens (%d) than runes in %q", len(toks), s)
		}
	})
}

func BenchmarkCount(b *testing.B) {
	s := strings.Repeat("lorem ipsum dolor sit amet ", 40)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Count(s)
	}
}
