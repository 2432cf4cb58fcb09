package fault

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/aruntime/arcert/api/link"
)

// ErrAdopt means a proxy the target names cannot be adopted as it stands: it is missing,
// disabled, already carries toxics, or forwards somewhere other than the link's upstream.
var ErrAdopt = errors.New("fault: cannot adopt proxy")

// Adopt takes over a proxy that already stands on the link in the engine's toxiproxy (a
// deployment's own, made from its configuration at start) instead of making one: the runtime
// was configured to dial it, so the harness must break that proxy and no other. The proxy must
// exist, be enabled, carry no toxic and forward to the link's Upstream, else the error names the
// link and what is wrong; a proxy in another state would make every fault and the residue check
// prove nothing. Once adopted, Inject, Heal, HealAll, Windows and Residue treat it exactly as a
// proxy the engine made, and the engine never deletes it (it deletes no proxy at all): it
// belongs to the deployment. The link keeps its declared Dial, the address the runtime dials.
func (e *Engine) Adopt(at link.Link, proxy string) (Link, error) {
	what := fmt.Sprintf("%s %s", at.Role, at.Name)
	if at.Part != "" {
		what += " (" + at.Part + ")"
	}
	if proxy == "" {
		return Link{}, fmt.Errorf("%w for %s: no proxy name given", ErrAdopt, what)
	}
	proxies, err := e.client.Proxies()
	if err != nil {
		return Link{}, fmt.Errorf("fault: listing the proxies of %s: %w", e.api, err)
	}
	p, ok := proxies[proxy]
	switch {
	case !ok:
		return Link{}, fmt.Errorf("%w %s for %s: %s has no such proxy (it has %s)", ErrAdopt, proxy, what, e.api, strings.Join(sortedNames(proxies), ", "))
	case !p.Enabled:
		return Link{}, fmt.Errorf("%w %s for %s: it is disabled; enable it first", ErrAdopt, proxy, what)
	case p.Upstream != at.Upstream:
		return Link{}, fmt.Errorf("%w %s for %s: it forwards to %s, the target says the upstream is %s", ErrAdopt, proxy, what, p.Upstream, at.Upstream)
	case len(p.ActiveToxics) > 0:
		var names []string
		for _, t := range p.ActiveToxics {
			names = append(names, t.Name)
		}
		return Link{}, fmt.Errorf("%w %s for %s: it already carries toxics %s; remove them first", ErrAdopt, proxy, what, strings.Join(names, ", "))
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, l := range e.links {
		if l.Proxy == proxy {
			return Link{}, fmt.Errorf("%w %s for %s: it already stands on %s %s", ErrAdopt, proxy, what, l.Role, l.Name)
		}
	}
	l := Link{Link: at, Proxy: proxy}
	e.links = append(e.links, l)
	return l, nil
}

// sortedNames lists the proxies' names in order, for an error that says what there is.
func sortedNames(proxies map[string]*toxiclient.Proxy) []string {
	return slices.Sorted(maps.Keys(proxies))
}
