package runtime

import (
	"context"
	"fmt"
	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/reference/config"
)

// startProviders gives every hosted provider whose base_url is `embedded` a URL, by starting it
// through Options.StartProvider, and records where each provider is. A provider started here
// stops with the runtime's other parts, which Shutdown cancels only once the router has drained,
// so no request in flight loses it. Without StartProvider an embedded provider keeps its
// placeholder and the router leaves it out.
func (rt *Runtime) startProviders(startCtx, ctx context.Context) error {
	for i, p := range rt.cfg.Providers {
		if p.BaseURL == config.EmbeddedBaseURL {
			if rt.opts.StartProvider == nil {
				rt.log.Warn("no hosted fallback: provider has base_url embedded and nothing starts it", "provider", p.Name)
				continue
			}
			url, stop, err := rt.opts.StartProvider(startCtx, p)
			if err != nil {
				return fmt.Errorf("provider %s: %w", p.Name, err)
			}
			rt.cfg.Providers[i].BaseURL = url
			rt.goPart("provider "+p.Name, func() error {
				<-ctx.Done()
				return stop()
			})
		}
		dial, err := rt.interposeURL(startCtx, link.RoleProvider, p.Name, rt.cfg.Providers[i].BaseURL)
		if err != nil {
			return fmt.Errorf("provider %s: %w", p.Name, err)
		}
		upstream := rt.cfg.Providers[i].BaseURL
		rt.cfg.Providers[i].BaseURL = dial
		if rt.topology.Providers == nil {
			rt.topology.Providers = map[string]string{}
		}
		rt.topology.Providers[p.Name] = upstream
		rt.topology.Dials["router"] = append(rt.topology.Dials["router"], rt.cfg.Providers[i].BaseURL)
		rt.log.Info("hosted provider", "provider", p.Name, "region", p.Region, "url", rt.cfg.Providers[i].BaseURL)
	}
	return nil
}
