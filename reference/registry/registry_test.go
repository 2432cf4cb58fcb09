package registry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every wait; generous for -race, never waited on success.
const testTimeout = 10 * time.Second

// start runs a registry on a free loopback port until the test ends.
func start(t *testing.T, log *slog.Logger) *Registry {
	t.Helper()
	r, err := Start("127.0.0.1:0", t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		_ = r.Shutdown(ctx) // a second Shutdown after a test's own is harmless
	})
	return r
}

func TestServesDistributionAPI(t *testing.T) {
	r := start(t, slog.New(slog.DiscardHandler))
	resp, err := http.Get("http://" + r.Addr() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/ = %s, want 200", resp.Status)
	}
	if got := resp.Header.Get("Docker-Distribution-API-Version"); got != "registry/2.0" {
		t.Errorf("API version header = %q, want registry/2.0", got)
	}
}

func TestShutdownClosesListener(t *testing.T) {
	r := start(t, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if c, err := net.DialTimeout("tcp", r.Addr(), testTimeout); err == nil {
		c.Close()
		t.Errorf("dial after Shutdown succeeded, want refused")
	}
}

func TestStartRefusesBadSetup(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, listen, root string }{
		{"empty root", "127.0.0.1:0", ""},
		{"root is a file", "127.0.0.1:0", filepath.Join(file, "sub")},
		{"bad listen address", "127.0.0.1:notaport", t.TempDir()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := Start(tt.listen, tt.root, nil); !errors.Is(err, ErrStart) {
				if r != nil {
					_ = r.Shutdown(context.Background())
				}
				t.Errorf("Start = %v, want ErrStart", err)
			}
		})
	}
}

// TestLogsReachSlog shows distribution's logrus messages arrive on the
// registry's slog logger, request logs included, and nothing on stderr
// formatting is needed to see them.
func TestLogsReachSlog(t *testing.T) {
	rec := &recorder{}
	r := start(t, slog.New(rec))
	resp, err := http.Get("http://" + r.Addr() + "/v2/missing/manifests/latest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET missing manifest = %s, want 404", resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	// Shutdown waits for the handler to return, so its log is recorded.
	if err := r.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !rec.has("component=registry", "/v2/missing/manifests/latest") {
		t.Errorf("no registry log mentions the request; got:\n%s", rec.String())
	}
}

// recorder is a slog handler keeping every record as text, at every level.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		r.buf.WriteString(" " + a.String())
		return true
	})
	r.buf.WriteByte('\n')
	return nil
}

// has reports whether one recorded line contains every part.
func (r *recorder) has(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for line := range bytes.Lines(r.buf.Bytes()) {
		ok := true
		for _, p := range parts {
			ok = ok && bytes.Contains(line, []byte(p))
		}
		if ok {
			return true
		}
	}
	return false
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}
