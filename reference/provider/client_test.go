package provider

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/openai"
	standin "github.com/aruntime/arcert/fixtures/provider"
)

const (
	providerKey  = "test-only-provider-key"
	tenantSecret = "test-only-tenant-acme-key"
)

func startStandIn(t *testing.T) *standin.Provider {
	t.Helper()
	p, err := standin.Start("127.0.0.1:0", providerKey)
	if err != nil {
		t.Fatalf("start stand-in: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func chat(model, text string, maxTokens int64) openai.CompletionRequest {
	return openai.CompletionRequest{Model: model, Messages: []openai.ChatMessage{{Role: "user", Content: text}}, MaxTokens: &maxTokens}
}

// collect streams req and returns the pieces delivered.
func collect(ctx context.Context, c *Client, req openai.CompletionRequest) ([]string, Usage, error) {
	var got []string
	u, err := c.Stream(ctx, req, func(s string) error { got = append(got, s); return nil })
	return got, u, err
}

func TestTenantHeaderMatchesStandIn(t *testing.T) {
	if TenantHeader != standin.TenantHeader {
		t.Fatalf("client sends %q, stand-in records %q", TenantHeader, standin.TenantHeader)
	}
}

func TestStreamChatAndCompletion(t *testing.T) {
	p := startStandIn(t)
	c := New(p.URL()+"/v1/", providerKey, nil) // a trailing /v1/ is tolerated
	ctx := WithTenantLabel(t.Context(), "acme")

	got, u, err := collect(ctx, c, chat("m", "hello there", 5))
	if err != nil {
		t.Fatalf("Stream chat: %v", err)
	}
	if len(got) != 5 || !u.Reported || u.CompletionTokens != 5 || u.PromptTokens != 2 || u.FinishReason != "length" {
		t.Errorf("chat: pieces %q, usage %+v; want 5 pieces and reported usage 2+5, finish length", got, u)
	}

	prompt := "once upon"
	got, u, err = collect(ctx, c, openai.CompletionRequest{Model: "m", Prompt: &prompt})
	if err != nil || len(got) == 0 || u.CompletionTokens != len(got) {
		t.Fatalf("completion: pieces %q, usage %+v, err %v", got, u, err)
	}

	seen := p.Seen()
	if len(seen) != 2 || seen[0].Path != "/v1/chat/completions" || seen[1].Path != "/v1/completions" {
		t.Fatalf("stand-in saw %+v, want one chat and one completion", seen)
	}
	for _, r := range seen {
		if r.Tenant != "acme" || !r.Stream || r.Credential != standin.Fingerprint(providerKey) {
			t.Errorf("stand-in recorded %+v, want tenant acme, streamed, with the provider key", r)
		}
	}
}

// spy records every outgoing request, headers and body, as the wire would carry it.
type spy struct {
	mu    sync.Mutex
	dumps []string
}

func (s *spy) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := httputil.DumpRequest(r, true) // restores r.Body
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.dumps = append(s.dumps, string(b))
	s.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestNoTenantAuthorityReachesProvider puts the tenant's key everywhere a careless client might
// forward it from: the body's user and cache_salt, and a cookie in the HTTP client's jar. Only the
// provider's own key may reach the provider, and nothing else of the caller's.
func TestNoTenantAuthorityReachesProvider(t *testing.T) {
	p := startStandIn(t)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.URL())
	jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: tenantSecret}})
	sp := &spy{}
	c := New(p.URL(), providerKey, &http.Client{Jar: jar, Transport: sp})

	req := chat("m", "summarise this", 3)
	req.User, req.CacheSalt = tenantSecret, tenantSecret
	if _, _, err := collect(WithTenantLabel(t.Context(), "acme"), c, req); err != nil {
		t.Fatalf("Stream: %v", err)
	}

	for _, d := range sp.dumps {
		if strings.Contains(d, tenantSecret) {
			t.Errorf("the tenant's key left the runtime:\n%s", d)
		}
	}
	seen := p.Seen()
	if len(seen) != 1 {
		t.Fatalf("stand-in saw %d requests, want 1", len(seen))
	}
	r := seen[0]
	if r.Credential != standin.Fingerprint(providerKey) || !r.Authorized {
		t.Errorf("stand-in saw credential %s, want the provider key's %s", r.Credential, standin.Fingerprint(providerKey))
	}
	if r.User != "" {
		t.Errorf("the caller's user label reached the provider: %q", r.User)
	}
	allowed := []string{"Accept", "Accept-Encoding", "Authorization", "Content-Length", "Content-Type", "User-Agent", standin.TenantHeader}
	for _, h := range r.Headers {
		if !slices.Contains(allowed, h) {
			t.Errorf("header %s reached the provider; only %v may", h, allowed)
		}
	}
}

func TestStreamErrorsAgainstStandIn(t *testing.T) {
	p := startStandIn(t)
	ctx := t.Context()

	_, _, err := collect(ctx, New(p.URL(), tenantSecret, nil), chat("m", "hi", 2))
	var ue *UpstreamError
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ue) || ue.Status != http.StatusUnauthorized {
		t.Errorf("wrong key: %v, want ErrUnavailable with status 401 (the runtime's credential, not the tenant's fault)", err)
	}

	c := New(p.URL(), providerKey, nil)
	p.SetDown(true)
	_, _, err = collect(ctx, c, chat("m", "hi", 2))
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ue) || ue.Status != http.StatusServiceUnavailable || ue.RetryAfter != time.Second {
		t.Errorf("down: %v, want ErrUnavailable, 503, Retry-After 1s", err)
	}
	p.SetDown(false)

	_, _, err = collect(ctx, c, openai.CompletionRequest{Messages: []openai.ChatMessage{{Role: "user", Content: "x"}}})
	if !errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) {
		t.Errorf("no model: %v, want ErrRejected before sending", err)
	}
	zero := int64(0)
	req := chat("m", "hi", 1)
	req.MaxTokens = &zero
	_, _, err = collect(ctx, c, req)
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "max_tokens must be at least 1") {
		t.Errorf("max_tokens 0: %v, want ErrRejected carrying the upstream's message", err)
	}

	addr := p.URL()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err = collect(ctx, New(addr, providerKey, nil), chat("m", "hi", 2)); !errors.Is(err, ErrUnavailable) {
		t.Errorf("closed provider: %v, want ErrUnavailable", err)
	}
}

func TestStreamStopsForCallerAndContext(t *testing.T) {
	p := startStandIn(t)
	c := New(p.URL(), providerKey, nil)

	errGone := errors.New("client gone")
	n := 0
	_, err := c.Stream(t.Context(), chat("m", "hi", 8), func(string) error { n++; return errGone })
	if !errors.Is(err, errGone) || errors.Is(err, ErrUnavailable) || n != 1 {
		t.Errorf("onToken error: %v after %d pieces, want errGone after 1, not ErrUnavailable", err, n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	n = 0
	_, err = c.Stream(ctx, chat("m", "hi", 8), func(string) error { n++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) || n != 1 {
		t.Errorf("cancelled: %v after %d pieces, want context.Canceled after 1, not ErrUnavailable", err, n)
	}

	bad := WithTenantLabel(t.Context(), "acme\r\nAuthorization: Bearer x")
	if _, _, err := collect(bad, c, chat("m", "hi", 1)); !errors.Is(err, ErrRejected) {
		t.Errorf("label with CRLF: %v, want ErrRejected before sending", err)
	}
	if n := len(p.Seen()); n != 2 {
		t.Errorf("stand-in saw %d requests, want 2 (the bad label never sent)", n)
	}
}
