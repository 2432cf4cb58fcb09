package fault

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/aruntime/arcert/api/link"
)

// Engine drives one toxiproxy server through its client: it makes the proxies, injects faults,
// heals them and proves that nothing is left behind. It is safe for concurrent use.
type Engine struct {
	client *toxiclient.Client
	api    string

	mu      sync.Mutex
	links   []Link
	active  map[*Active]struct{}
	windows []Window
}

// New returns an engine for the toxiproxy API at apiURL (http://host:port).
func New(apiURL string) *Engine {
	return &Engine{client: toxiclient.NewClient(apiURL), api: apiURL, active: map[*Active]struct{}{}}
}

// API is the toxiproxy server's API address, for an operator's toxiproxy-cli during a game day.
func (e *Engine) API() string { return e.api }

// proxyName makes a toxiproxy proxy name from a link's role, name and part.
func proxyName(role link.Role, name, part string) string {
	n := string(role) + "." + name
	if part != "" {
		n += "." + part
	}
	return strings.NewReplacer("/", "_", ":", "_", " ", "_").Replace(n)
}

// Proxy puts a proxy on a link: it listens on the link's Dial (host:0 picks a free port) and
// forwards to its Upstream. Part tells apart several links of one role and name (each worker of a
// region), so each gets its own proxy. It returns the link with Dial the address the proxy really
// listens on: the one the runtime must dial.
func (e *Engine) Proxy(at link.Link) (Link, error) {
	pname := proxyName(at.Role, at.Name, at.Part)
	p, err := e.client.CreateProxy(pname, at.Dial, at.Upstream)
	if err != nil {
		return Link{}, fmt.Errorf("fault: proxy %s → %s: %w", pname, at.Upstream, err)
	}
	at.Dial = p.Listen
	l := Link{Link: at, Proxy: pname}
	e.mu.Lock()
	e.links = append(e.links, l)
	e.mu.Unlock()
	return l, nil
}

// Links returns every link with a proxy, in the order they were made.
func (e *Engine) Links() []Link {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.links)
}

// Select returns the links of a role, of one name when name is not empty.
func (e *Engine) Select(role link.Role, name string) []Link {
	var out []Link
	for _, l := range e.Links() {
		if l.Role == role && (name == "" || l.Name == name) {
			out = append(out, l)
		}
	}
	return out
}

// Active is a fault in force. Heal it (a deferred Heal right after Inject is the idiom); the
// engine's HealAll heals whatever is left.
type Active struct {
	e      *Engine
	window int
	links  []Link
	fault  Fault
	mu     sync.Mutex // serialises Heal
	healed bool
}

// Inject puts f on every link of role (and name, when not empty) and returns it in force.
func (e *Engine) Inject(role link.Role, name string, f Fault) (*Active, error) {
	return e.InjectPart(role, name, "", f)
}

// InjectPart puts f on the links of role and name that lead to part (all of them when part is
// empty): one worker of a region, say.
func (e *Engine) InjectPart(role link.Role, name, part string, f Fault) (*Active, error) {
	var links []Link
	for _, l := range e.Select(role, name) {
		if part == "" || l.Part == part {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		return nil, fmt.Errorf("%w: role %q name %q part %q", ErrNoLink, role, name, part)
	}
	var attrs map[string]any
	if f.Kind != Down {
		var err error
		if attrs, err = f.attributes(); err != nil {
			return nil, err
		}
	}
	a := &Active{e: e, links: links, fault: f}
	e.mu.Lock()
	w := Window{Fault: f, Role: role, Name: name, Part: part, Start: time.Now()}
	for _, l := range links {
		w.Links = append(w.Links, l.Proxy)
	}
	e.windows = append(e.windows, w)
	a.window = len(e.windows) - 1
	e.active[a] = struct{}{}
	e.mu.Unlock()
	for _, l := range links {
		if err := e.apply(l, f, attrs); err != nil {
			_ = a.Heal()
			return nil, err
		}
	}
	return a, nil
}

// toxicName is the name every toxic of the engine carries on a proxy, per direction.
func toxicName(f Fault, stream string) string { return "arcert-" + string(f.Kind) + "-" + stream }

func (e *Engine) apply(l Link, f Fault, attrs map[string]any) error {
	p, err := e.client.Proxy(l.Proxy)
	if err != nil {
		return fmt.Errorf("fault: proxy %s: %w", l.Proxy, err)
	}
	if f.Kind == Down {
		if err := p.Disable(); err != nil {
			return fmt.Errorf("fault: disabling %s: %w", l.Proxy, err)
		}
		return nil
	}
	streams := []string{"upstream", "downstream"}
	if f.UpstreamOnly {
		streams = streams[:1]
	}
	for _, s := range streams {
		// Toxicity 1: the Go client's zero value would make a toxic that never fires.
		if _, err := p.AddToxic(toxicName(f, s), string(f.Kind), s, 1.0, attrs); err != nil {
			return fmt.Errorf("fault: %s on %s (%s): %w", f.Kind, l.Proxy, s, err)
		}
	}
	return nil
}

// Heal undoes the fault on every link it was put on and closes its window. It is idempotent, and
// a Heal that failed (the server did not answer) may be tried again: the fault stays in force,
// and HealAll's, until one succeeds.
func (a *Active) Heal() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.healed {
		return nil
	}
	var errs []error
	for _, l := range a.links {
		errs = append(errs, a.e.undo(l, a.fault))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	a.healed = true
	a.e.mu.Lock()
	a.e.windows[a.window].End = time.Now()
	delete(a.e.active, a)
	a.e.mu.Unlock()
	return nil
}

// Window returns the fault's window as recorded so far.
func (a *Active) Window() Window {
	a.e.mu.Lock()
	defer a.e.mu.Unlock()
	return a.e.windows[a.window]
}

func (e *Engine) undo(l Link, f Fault) error {
	p, err := e.client.Proxy(l.Proxy)
	if err != nil {
		return fmt.Errorf("fault: proxy %s: %w", l.Proxy, err)
	}
	if f.Kind == Down {
		if err := p.Enable(); err != nil {
			return fmt.Errorf("fault: enabling %s: %w", l.Proxy, err)
		}
		return nil
	}
	var errs []error
	for _, t := range p.ActiveToxics {
		if strings.HasPrefix(t.Name, toxicName(f, "")) {
			if err := p.RemoveToxic(t.Name); err != nil {
				errs = append(errs, fmt.Errorf("fault: removing %s from %s: %w", t.Name, l.Proxy, err))
			}
		}
	}
	return errors.Join(errs...)
}

// HealAll heals every fault still in force.
func (e *Engine) HealAll() error {
	e.mu.Lock()
	var list []*Active
	for a := range e.active {
		list = append(list, a)
	}
	e.mu.Unlock()
	var errs []error
	for _, a := range list {
		errs = append(errs, a.Heal())
	}
	return errors.Join(errs...)
}

// Windows returns every fault window recorded, in injection order.
func (e *Engine) Windows() []Window {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.windows)
}

// Residue asks the server itself whether any proxy of the engine is disabled or carries a
// toxic, and names each one. Nil means every fault was undone.
func (e *Engine) Residue() error {
	proxies, err := e.client.Proxies()
	if err != nil {
		return fmt.Errorf("fault: listing proxies: %w", err)
	}
	var left []string
	for _, l := range e.Links() {
		p, ok := proxies[l.Proxy]
		switch {
		case !ok:
			left = append(left, l.Proxy+" is gone")
		case !p.Enabled:
			left = append(left, l.Proxy+" is disabled")
		case len(p.ActiveToxics) > 0:
			for _, t := range p.ActiveToxics {
				left = append(left, fmt.Sprintf("%s carries toxic %s", l.Proxy, t.Name))
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("%w: %s", ErrResidue, strings.Join(left, "; "))
	}
	return nil
}
