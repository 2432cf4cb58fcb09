package target

import (
	"slices"
	"strings"
	"testing"
)

// withMore is the reference target (primary router http://127.0.0.1:8080, grpc 127.0.0.1:8081,
// feature grpc declared) with more as its endpoints.more block.
func withMore(t *testing.T, more string) []byte {
	t.Helper()
	base := string(reference(t))
	const primary = "  grpc: 127.0.0.1:8081\n"
	if !strings.Contains(base, primary) {
		t.Fatalf("the reference target has no line %q", primary)
	}
	return []byte(strings.Replace(base, primary, primary+more, 1))
}

// TestFurtherRoutersParse: a list of further routers is read in order, the primary first, and the
// same URL twice is a valid list (one router certified as two).
func TestFurtherRoutersParse(t *testing.T) {
	tg, err := Parse("ref.yaml", withMore(t, "  more:\n    - {http: http://10.0.0.2:8080, grpc: 10.0.0.2:8081}\n    - {http: http://127.0.0.1:8080, grpc: 127.0.0.1:8081}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tg.Endpoints.HTTPURLs(), []string{"http://127.0.0.1:8080", "http://10.0.0.2:8080", "http://127.0.0.1:8080"}; !slices.Equal(got, want) {
		t.Errorf("HTTPURLs() = %v, want %v", got, want)
	}
	if got, want := tg.Endpoints.GRPCAddrs(), []string{"127.0.0.1:8081", "10.0.0.2:8081", "127.0.0.1:8081"}; !slices.Equal(got, want) {
		t.Errorf("GRPCAddrs() = %v, want %v", got, want)
	}
}

// TestFurtherRouterProblems: each mistake in a further router is named by file, line, field and
// index.
func TestFurtherRouterProblems(t *testing.T) {
	ok := "    - {http: http://10.0.0.2:8080, grpc: 10.0.0.2:8081}\n"
	tests := []struct{ name, entry, want string }{
		{"no http", "    - {grpc: 10.0.0.3:8081}\n", "ref.yaml:12: endpoints.more[1]: missing property 'http'"},
		{"http with a path", "    - {http: http://10.0.0.3:8080/v1, grpc: 10.0.0.3:8081}\n", "endpoints.more[1].http"},
		{"no grpc while grpc is declared", "    - {http: http://10.0.0.3:8080}\n", "endpoints.more[1].grpc: the target declares feature grpc"},
		{"unknown field", "    - {http: http://10.0.0.3:8080, grpc: 10.0.0.3:8081, weight: 2}\n", "endpoints.more[1].weight: unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("ref.yaml", withMore(t, "  more:\n"+ok+tc.entry))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "ref.yaml:12: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q at line 12", err, tc.want)
			}
		})
	}
}

// TestFurtherRouterGRPCWithoutPrimary: a further router may not give gRPC when the primary does
// not, or gRPC would be spread over other routers than HTTP.
func TestFurtherRouterGRPCWithoutPrimary(t *testing.T) {
	base := string(reference(t))
	b := strings.Replace(base, "  grpc: 127.0.0.1:8081\n", "  more:\n    - {http: http://10.0.0.2:8080, grpc: 10.0.0.2:8081}\n", 1)
	b = strings.Replace(b, "streaming, grpc,", "streaming,", 1)
	if b == base {
		t.Fatal("the reference target changed shape")
	}
	_, err := Parse("ref.yaml", []byte(b))
	if err == nil || !strings.Contains(err.Error(), "endpoints.more[0].grpc: the primary router gives no gRPC endpoint") {
		t.Fatalf("got %v", err)
	}
}

// TestFurtherRouterWithoutGRPCBesideAGRPCPrimary: with the primary giving a gRPC endpoint, a
// further router must give one too, even where feature grpc is not declared: the gRPC driver
// spreads over the same routers, and an empty address would reach nothing.
func TestFurtherRouterWithoutGRPCBesideAGRPCPrimary(t *testing.T) {
	base := string(reference(t))
	b := strings.Replace(base, "  grpc: 127.0.0.1:8081\n", "  grpc: 127.0.0.1:8081\n  more:\n    - {http: http://10.0.0.2:8080}\n", 1)
	b = strings.Replace(b, "streaming, grpc,", "streaming,", 1)
	if b == base || !strings.Contains(b, "streaming,") {
		t.Fatal("the reference target changed shape")
	}
	_, err := Parse("ref.yaml", []byte(b))
	if err == nil || !strings.Contains(err.Error(), "endpoints.more[0].grpc: the primary router gives a gRPC endpoint") {
		t.Fatalf("got %v", err)
	}
}
