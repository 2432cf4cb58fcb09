package artifact

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const goodConfig = `{"name":"m-1.b_c","context_length":4096,"max_output_tokens":1024,"kv_bytes_per_token":131072,"weights_bytes":2000000000}`

func TestParseConfigAccepts(t *testing.T) {
	got, err := ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Name: "m-1.b_c", ContextLength: 4096, MaxOutputTokens: 1024, KVBytesPerToken: 131072, WeightsBytes: 2000000000}
	if got != want {
		t.Errorf("ParseConfig = %+v, want %+v", got, want)
	}
}

// TestParseConfigRefuses checks every refusal wraps ErrMalformed (hence
// ErrInvalid) and names what is wrong.
func TestParseConfigRefuses(t *testing.T) {
	tests := []struct{ name, json, mention string }{
		{"unknown field", `{"name":"m","context_length":1,"max_output_tokens":1,"kv_bytes_per_token":1,"weights_bytes":1,"temperature":1}`, `"temperature"`},
		{"missing name", `{"context_length":1,"max_output_tokens":1,"kv_bytes_per_token":1,"weights_bytes":1}`, `"name": missing`},
		{"missing weights_bytes", `{"name":"m","context_length":1,"max_output_tokens":1,"kv_bytes_per_token":1}`, `"weights_bytes": missing`},
		{"uppercase name", strings.Replace(goodConfig, "m-1.b_c", "Model", 1), `"name"`},
		{"empty name", strings.Replace(goodConfig, "m-1.b_c", "", 1), `"name"`},
		{"zero context", strings.Replace(goodConfig, "4096", "0", 1), `"context_length": 0 is out of range`},
		{"huge context", strings.Replace(goodConfig, "4096", "99999999999", 1), `"context_length"`},
		{"output over context", strings.Replace(goodConfig, "1024", "8192", 1), `"max_output_tokens": 8192 is out of range [1, 4096]`},
		{"negative kv", strings.Replace(goodConfig, "131072", "-1", 1), `"kv_bytes_per_token"`},
		{"zero weights", strings.Replace(goodConfig, "2000000000", "0", 1), `"weights_bytes"`},
		{"string number", strings.Replace(goodConfig, "4096", `"4096"`, 1), `"context_length": expected an integer, got a string`},
		{"fraction", strings.Replace(goodConfig, "4096", "4096.5", 1), `"context_length"`},
		{"trailing data", goodConfig + `{}`, "after its JSON object"},
		{"not an object", `[1]`, "config"},
		{"empty", ``, "config"},
		{"too large", `{"name":"` + strings.Repeat("a", MaxConfigBytes) + `"}`, "bytes, at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.json))
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseConfig = %v, want ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

// FuzzParseConfig checks ParseConfig never panics, refuses only with
// ErrMalformed, and that what it accepts survives a round trip.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(goodConfig))
	f.Add([]byte(`{"name":"m","context_length":1,"max_output_tokens":1,"kv_bytes_per_token":1,"weights_bytes":1}`))
	f.Add([]byte(`{"name":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("refusal %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if c2, err := ParseConfig(again); err != nil || c2 != c {
			t.Fatalf("round trip of %+v = %+v, %v", c, c2, err)
		}
	})
}
