package runtime

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aruntime/arcert/api/link"
)

// Link is one dependency link of the runtime: a part of it dialing another (a region's worker,
// the hosted provider, the registry, the batch queue, the cache tier, the evidence service). It
// is the link type the target file and the harness use, so roles and names agree with the
// target file's dependencies. The runtime fills in Role, Name, Part and Upstream; Dial is what
// the Interposer returns.
type Link = link.Link

// Interposer returns the host:port a part should dial instead of a link's upstream: a fault
// proxy in front of it. The harness passes one for the embedded runtime so that every link can
// be cut; nil dials upstreams directly.
type Interposer func(ctx context.Context, l Link) (dial string, err error)

// interpose returns the address to dial for l: the interposer's, or the upstream itself. Each
// link is interposed once, so parts sharing it (workers dialing the cache) share one proxy.
func (rt *Runtime) interpose(ctx context.Context, l Link) (string, error) {
	if rt.opts.Interpose == nil {
		return l.Upstream, nil
	}
	key := string(l.Role) + "\x00" + l.Name + "\x00" + l.Part + "\x00" + l.Upstream
	rt.workersMu.Lock()
	defer rt.workersMu.Unlock()
	if d, ok := rt.interposed[key]; ok {
		return d, nil
	}
	d, err := rt.opts.Interpose(ctx, l)
	if err != nil {
		return "", fmt.Errorf("interposing on %s %s: %w", l.Role, l.Name, err)
	}
	rt.interposed[key] = d
	return d, nil
}

// interposeURL interposes on the host of a URL (http://host:port/..., nats://host:port) and
// returns the URL with the host replaced.
func (rt *Runtime) interposeURL(ctx context.Context, role link.Role, name, raw string) (string, error) {
	if rt.opts.Interpose == nil {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("interposing on %s %s: %q is not a URL with a host", role, name, raw)
	}
	d, err := rt.interpose(ctx, Link{Role: role, Name: name, Upstream: u.Host})
	if err != nil {
		return "", err
	}
	u.Host = d
	return strings.TrimSuffix(u.String(), "/"), nil
}
