package worker

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aruntime/arcert/reference/tokenizer"
)

// longPrompt is many prefix-cache blocks long (block size 4 in testOptions).
var longPrompt = strings.Repeat("the quick brown fox jumps over the lazy dog ", 8)

func TestPrefixCacheIsTenantSalted(t *testing.T) {
	w := serve(t, testOptions("w1"))
	n := int64(tokenizer.Count(longPrompt))
	if n < 16 {
		t.Fatalf("prompt is %d tokens, want several blocks", n)
	}
	cached := func(tenant, clientSalt, model string) int64 {
		t.Helper()
		req := request(tenant, longPrompt, 2)
		req.ClientCacheSalt, req.Model = clientSalt, model
		return mustGenerate(t, w.client, req).final.GetUsage().GetCachedTokens()
	}

	if got := cached("acme", "", "m1"); got != 0 {
		t.Fatalf("first call: cached %d, want 0", got)
	}
	// Full blocks are reused, but at least one token is always prefilled.
	if got, want := cached("acme", "", "m1"), min(n/4*4, n-1); got != want {
		t.Errorf("same tenant repeating: cached %d, want %d", got, want)
	}
	if got := cached("globex", "", "m1"); got != 0 {
		t.Errorf("other tenant, same prompt: cached %d, want 0", got)
	}
	if got := cached("initech", "acme", "m1"); got != 0 {
		t.Errorf("other tenant with the first tenant's name as client salt: cached %d, want 0", got)
	}
	if got := cached("acme", "private", "m1"); got != 0 {
		t.Errorf("same tenant, new client salt: cached %d, want 0 (client salt narrows sharing)", got)
	}
	if got := cached("acme", "", "m2"); got != 0 {
		t.Errorf("same tenant, other model: cached %d, want 0 (KV is per model)", got)
	}
	if got := cached("acme", "private", "m1"); got == 0 {
		t.Error("same tenant and client salt repeating: cached 0, want a hit")
	}
}

func TestTenantSalt(t *testing.T) {
	base := TenantSalt("acme", "")
	if len(base) != 32 {
		t.Fatalf("salt is %d bytes, want 32", len(base))
	}
	if !bytes.Equal(base, TenantSalt("acme", "")) {
		t.Error("salt is not deterministic")
	}
	differ := []struct{ tenant, client string }{
		{"globex", ""},
		{"acme", "x"}, // a client salt narrows within the tenant
		{"", "acme"},  // a client salt never stands in for a tenant
		{"acm", "e"},  // moving bytes across the boundary changes the salt
		// Without the tenant's length prefix these two would hash the same
		// bytes: a NUL in a tenant name must not forge the separator.
		{"acme\x00x", ""},
		{"acme", "x\x00"},
		{"acme", "globex"}, // naming another tenant reaches only your own space
	}
	seen := map[string]string{string(base): "acme/"}
	for _, d := range differ {
		s := string(TenantSalt(d.tenant, d.client))
		if prev, dup := seen[s]; dup {
			t.Errorf("TenantSalt(%q, %q) collides with %s", d.tenant, d.client, prev)
		}
		seen[s] = d.tenant + "/" + d.client
	}
	if bytes.Equal(requestSalt("m1", "acme", ""), requestSalt("m2", "acme", "")) {
		t.Error("request salts of two models are equal")
	}
}
