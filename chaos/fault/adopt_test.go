package fault

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/aruntime/arcert/api/link"
)

// deploymentProxy makes a proxy on the engine's server the way a deployment's toxiproxy does
// from its configuration: by another client, under a name the engine did not choose.
func deploymentProxy(t *testing.T, e *Engine, name, upstream string) *toxiclient.Proxy {
	t.Helper()
	p, err := toxiclient.NewClient(e.API()).CreateProxy(name, "127.0.0.1:0", upstream)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAdoptedProxyIsFaultedHealedAndKept: an adopted proxy takes faults and heals like a made
// one, shows in residue and windows, and is still there, enabled and clean, after HealAll.
func TestAdoptedProxyIsFaultedHealedAndKept(t *testing.T) {
	e := newEngine(t)
	up := echo(t)
	p := deploymentProxy(t, e, "queue-nats-1", up)
	l, err := e.Adopt(link.Link{Role: link.RoleQueue, Name: "jetstream", Part: "nats-1", Dial: "toxiproxy:7040", Upstream: up}, "queue-nats-1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Proxy != "queue-nats-1" || l.Dial != "toxiproxy:7040" {
		t.Fatalf("adopted link %+v: want proxy queue-nats-1 and the declared dial kept", l)
	}
	if got := e.Select(link.RoleQueue, "jetstream"); len(got) != 1 || got[0].Proxy != "queue-nats-1" {
		t.Fatalf("select after adopting: %+v", got)
	}
	if _, err := e.Inject(link.RoleQueue, "", Fault{Kind: Down}); err != nil {
		t.Fatal(err)
	}
	if _, err := roundTrip(p.Listen, time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("adopted proxy down: want connection refused, got %v", err)
	}
	if err := e.Residue(); !errors.Is(err, ErrResidue) || !strings.Contains(err.Error(), "queue-nats-1 is disabled") {
		t.Fatalf("residue while down: %v", err)
	}
	const delay = 150 * time.Millisecond
	if _, err := e.InjectPart(link.RoleQueue, "jetstream", "nats-1", Fault{Kind: Latency, Latency: delay}); err != nil {
		t.Fatal(err)
	}
	if err := e.HealAll(); err != nil {
		t.Fatal(err)
	}
	if err := e.Residue(); err != nil {
		t.Fatalf("residue after HealAll: %v", err)
	}
	if d, err := roundTrip(p.Listen, 5*time.Second); err != nil || d >= delay {
		t.Fatalf("after HealAll: took %v, err %v; want a fast echo", d, err)
	}
	if w := e.Windows(); len(w) != 2 || w[0].Links[0] != "queue-nats-1" || w[1].End.IsZero() {
		t.Fatalf("windows: %+v", w)
	}
	proxies, err := toxiclient.NewClient(e.API()).Proxies()
	if err != nil {
		t.Fatal(err)
	}
	if got := proxies["queue-nats-1"]; got == nil || !got.Enabled || len(got.ActiveToxics) != 0 {
		t.Fatalf("the deployment's proxy after the run: %+v; want it kept, enabled, clean", got)
	}
}

// TestAdoptRefusesAProxyThatIsNotTheLinks: each way a named proxy can differ from the link is
// refused with an error naming the link, the proxy and what is wrong, and nothing is adopted.
func TestAdoptRefusesAProxyThatIsNotTheLinks(t *testing.T) {
	e := newEngine(t)
	up, other := echo(t), echo(t)
	deploymentProxy(t, e, "cache-l2", up)
	off := deploymentProxy(t, e, "registry-oci", up)
	if err := off.Disable(); err != nil {
		t.Fatal(err)
	}
	toxic := deploymentProxy(t, e, "evidence-nats-1", up)
	if _, err := toxic.AddToxic("operator-latency", "latency", "downstream", 1, toxiclient.Attributes{"latency": 10}); err != nil {
		t.Fatal(err)
	}
	cache := link.Link{Role: link.RoleCache, Name: "l2", Dial: "toxiproxy:7020", Upstream: up}
	for _, c := range []struct {
		name  string
		at    link.Link
		proxy string
		want  []string
	}{
		{"missing", cache, "cache-l3", []string{"cache-l3", "cache l2", "no such proxy", "cache-l2"}},
		{"unnamed", cache, "", []string{"cache l2", "no proxy name"}},
		{"disabled", link.Link{Role: link.RoleRegistry, Name: "oci", Upstream: up}, "registry-oci", []string{"registry-oci", "registry oci", "disabled"}},
		{"upstream", link.Link{Role: link.RoleCache, Name: "l2", Upstream: other}, "cache-l2", []string{"cache-l2", "forwards to " + up, other}},
		{"toxics", link.Link{Role: link.RoleEvidence, Name: "jetstream", Part: "nats-1", Upstream: up}, "evidence-nats-1", []string{"evidence jetstream (nats-1)", "operator-latency"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Adopt(c.at, c.proxy)
			if !errors.Is(err, ErrAdopt) {
				t.Fatalf("want ErrAdopt, got %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if n := len(e.Links()); n != 0 {
		t.Fatalf("refused proxies were adopted: %+v", e.Links())
	}
	if _, err := e.Adopt(cache, "cache-l2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Adopt(cache, "cache-l2"); !errors.Is(err, ErrAdopt) || !strings.Contains(err.Error(), "already stands on cache l2") {
		t.Fatalf("adopting one proxy twice: %v", err)
	}
}
