package config

import (
	"testing"
)

// TestDecodeErrorsNameLineAndField: every mistake the YAML library finds is reported once, as
// FILE:LINE: path.to.field: message in words, at the line to fix.
func TestDecodeErrorsNameLineAndField(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"misspelt field", "router:\n  drain_timeot: 10s\n",
			"bad.yaml:2: router.drain_timeot: unknown field (did you mean drain_timeout?)"},
		{"unknown field", "router:\n  colour: red\n",
			"bad.yaml:2: router.colour: unknown field"},
		{"string for an integer", "traffic_classes:\n  - name: interactive\n    priority: ten\n",
			`bad.yaml:3: traffic_classes[0].priority: expected an integer, got "ten"`},
		{"through an anchor, once", "workers:\n  - id: a\n    engine: &e {max_batch: eight}\n  - id: b\n    engine: *e\n  - id: c\n    engine: *e\n  - id: d\n    engine: *e\n",
			`bad.yaml:3: workers[0].engine.max_batch: expected an integer, got "eight"`},
		{"not a duration", "router:\n  drain_timeout: soon\n",
			`bad.yaml:2: router.drain_timeout: expected a duration such as 500ms or 2s, got "soon"`},
		{"list for a string", "router:\n  http_listen: [a, b]\n",
			"bad.yaml:2: router.http_listen: expected a string, got a list"},
		{"mapping for a list", "workers: {id: a}\n",
			"bad.yaml:1: workers: expected a list, got a mapping"},
		{"duplicate key", "router:\n  http_listen: a\n  http_listen: b\n",
			"bad.yaml:3: router.http_listen: defined twice; the first is at line 2"},
		{"indentation after a comment", "router:\n  http_listen: a\n# a comment\n# another\n grpc_listen: b\n",
			"bad.yaml:5: did not find expected key (is this line indented like the keys it belongs with?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Error() != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
}
