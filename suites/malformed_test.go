package suites

import (
	"encoding/json"
	"testing"
)

// TestPadJSONKeepsTheRequest checks that the over-size probe is the same valid request, only
// longer: a runtime may refuse it for its size and for nothing else.
func TestPadJSONKeepsTheRequest(t *testing.T) {
	obj := []byte(`{"model":"m","max_tokens":1}`)
	padded := padJSON(obj, 1000)
	if len(padded) != len(obj)+1000 {
		t.Fatalf("padded to %d bytes, want %d", len(padded), len(obj)+1000)
	}
	var got map[string]any
	if err := json.Unmarshal(padded, &got); err != nil {
		t.Fatalf("the padded body is not JSON: %v", err)
	}
	if got["model"] != "m" || got["max_tokens"] != 1.0 || len(got) != 2 {
		t.Errorf("the padded body decodes to %v, not the request", got)
	}
	if string(padJSON(obj, 0)) != string(obj) {
		t.Error("padding by 0 changed the body")
	}
}
