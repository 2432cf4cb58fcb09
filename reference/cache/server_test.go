package cache

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/internal/testgrpc"
)

// testToken is the credential the test tier accepts.
const testToken = "worker-secret"

// testTimeout bounds every wait; generous for -race, never waited on success.
const testTimeout = 10 * time.Second

// serveStore serves st on a loopback port until the test ends and returns
// a connection to it.
func serveStore(t *testing.T, st *Store) *grpc.ClientConn {
	t.Helper()
	srv, err := NewServer(st, ServerOptions{Token: testToken, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return testgrpc.Dial(t, testgrpc.Serve(t, "cache", srv.Serve))
}

func TestServerRequiresWorkerCredential(t *testing.T) {
	st := newStore(t, Budgets{Global: 1000, Tenant: 100})
	rpc := arcertv1.NewCacheClient(serveStore(t, st))
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	k := keysToWire(keys("acme", 1, 1))
	for name, md := range map[string][]string{
		"no credential":  nil,
		"wrong token":    {"authorization", "Bearer nope"},
		"not bearer":     {"authorization", testToken},
		"token prefixed": {"authorization", "Bearer " + testToken + "x"},
	} {
		ctx := metadata.AppendToOutgoingContext(ctx, md...)
		_, errPut := rpc.Put(ctx, &arcertv1.CachePutRequest{Tenant: "acme", Keys: k, BlockBytes: 1})
		_, errMatch := rpc.Match(ctx, &arcertv1.CacheMatchRequest{Tenant: "acme", Keys: k})
		_, errStats := rpc.Stats(ctx, &arcertv1.CacheStatsRequest{})
		for rpcName, err := range map[string]error{"Put": errPut, "Match": errMatch, "Stats": errStats} {
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("%s with %s: %v, want Unauthenticated", rpcName, name, err)
			}
		}
	}
	if s := st.Stats(); s.Total.Blocks != 0 || len(s.Tenants) != 0 {
		t.Errorf("unauthenticated calls reached the store: %+v", s)
	}
}

func TestClientRoundTrip(t *testing.T) {
	st := newStore(t, Budgets{Global: 1 << 30, Tenant: 1 << 20})
	c, err := NewClient(serveStore(t, st), ClientOptions{Token: testToken, BlockBytes: 16})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	// More keys than one call may carry: Put splits them, Match truncates.
	k := keys("acme", 1, MaxKeysPerCall+3)
	if err := c.Put(ctx, "acme", k); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Match(ctx, "acme", k); err != nil || n != MaxKeysPerCall {
		t.Fatalf("Match = %d, %v; want %d (one call's worth)", n, err, MaxKeysPerCall)
	}
	if n, err := c.Match(ctx, "acme", k[MaxKeysPerCall:]); err != nil || n != 3 {
		t.Fatalf("Match of the second chunk = %d, %v; want 3", n, err)
	}
	if n, err := c.Match(ctx, "globex", k[:4]); err != nil || n != 0 {
		t.Fatalf("globex Match = %d, %v; want 0", n, err)
	}
	s, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acme := s.Tenants["acme"]
	if acme.Blocks != MaxKeysPerCall+3 || acme.Bytes != 16*(MaxKeysPerCall+3) || acme.Hits != MaxKeysPerCall+3 {
		t.Errorf("acme over the wire = %+v", acme)
	}
	if s.Tenants["globex"].Misses != 4 || s.Total.Budget != 1<<30 {
		t.Errorf("stats over the wire = %+v", s)
	}
}

func TestServerRejectsMalformedRequests(t *testing.T) {
	rpc := arcertv1.NewCacheClient(serveStore(t, newStore(t, Budgets{Global: 1000, Tenant: 100})))
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+testToken), testTimeout)
	defer cancel()
	good := keysToWire(keys("acme", 1, 1))
	for name, call := range map[string]func() error{
		"match without tenant": func() error {
			_, err := rpc.Match(ctx, &arcertv1.CacheMatchRequest{Keys: good})
			return err
		},
		"put without tenant": func() error {
			_, err := rpc.Put(ctx, &arcertv1.CachePutRequest{Keys: good, BlockBytes: 1})
			return err
		},
		"short key": func() error {
			_, err := rpc.Match(ctx, &arcertv1.CacheMatchRequest{Tenant: "acme", Keys: [][]byte{[]byte("short")}})
			return err
		},
		"zero block bytes": func() error {
			_, err := rpc.Put(ctx, &arcertv1.CachePutRequest{Tenant: "acme", Keys: good})
			return err
		},
		"too many keys": func() error {
			_, err := rpc.Put(ctx, &arcertv1.CachePutRequest{Tenant: "acme", Keys: make([][]byte, MaxKeysPerCall+1), BlockBytes: 1})
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	st := newStore(t, Budgets{Global: 1})
	if _, err := NewServer(st, ServerOptions{}); !errors.Is(err, ErrOptions) {
		t.Errorf("server without token: %v", err)
	}
	if _, err := NewServer(nil, ServerOptions{Token: "x"}); !errors.Is(err, ErrOptions) {
		t.Errorf("server without store: %v", err)
	}
	cc, err := grpc.NewClient("127.0.0.1:1", grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	for _, o := range []ClientOptions{{BlockBytes: 1}, {Token: "x"}} {
		if _, err := NewClient(cc, o); !errors.Is(err, ErrOptions) {
			t.Errorf("NewClient(%+v): %v, want ErrOptions", o, err)
		}
	}
}
