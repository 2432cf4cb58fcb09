package report

import (
	"strings"
	"testing"

	"github.com/aruntime/arcert/conformance/catalog"
)

// TestAPassMustRestOnSamples: a requirement whose specs all passed is PASS only when samples were
// judged on every path the catalogue lists (or the spec said why not) and enough of them.
func TestAPassMustRestOnSamples(t *testing.T) {
	q := catalog.Requirement{ID: "X-1", Paths: []string{"http", "grpc", "tenant"}, MinSamples: 4}
	cases := []struct {
		name     string
		samples  map[string]int
		unprobed map[string]string
		want     Result
		says     string
	}{
		{"nothing judged", nil, nil, Invalid, "no sample judged on 3 paths"},
		{"a path left out", map[string]int{"http": 3, "tenant:acme": 3}, nil, Invalid, "grpc"},
		{"a path explained", map[string]int{"http": 3, "tenant:acme": 3}, map[string]string{"grpc": "no gRPC endpoint"}, Pass, "not probed: grpc (no gRPC endpoint)"},
		{"too few", map[string]int{"http": 1, "grpc": 1, "tenant:acme": 1}, nil, Invalid, "only 3 samples judged"},
		{"an unlisted path", map[string]int{"http": 3, "grpc": 3, "tenant:a": 1, "batch": 2}, nil, Invalid, `path "batch"`},
		{"enough everywhere", map[string]int{"http": 3, "grpc": 3, "tenant:a": 1, "tenant:b": 1}, nil, Pass, "judged 8 samples on 4 paths (a request counts on each path it took): grpc 3, http 3, tenant:a 1, tenant:b 1"},
	}
	for _, c := range cases {
		got, msg := weigh(q, c.samples, c.unprobed)
		if got != c.want || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %s %q, want %s containing %q", c.name, got, msg, c.want, c.says)
		}
	}
	if got, _ := weigh(catalog.Requirement{ID: "Y-1"}, nil, nil); got != Pass {
		t.Errorf("a requirement that lists no paths and recorded none: %s", got)
	}
}

// TestSamplesForOneRequirement: samples keyed to one requirement count for it alone.
func TestSamplesForOneRequirement(t *testing.T) {
	from := map[string]int{"http": 2, "A-1" + ForRequirement + "grpc": 3}
	if got := mergeCounts("A-1", nil, from); got["http"] != 2 || got["grpc"] != 3 {
		t.Errorf("A-1: %v", got)
	}
	if got := mergeCounts("B-1", nil, from); got["http"] != 2 || got["grpc"] != 0 {
		t.Errorf("B-1: %v", got)
	}
}
