package config

import "regexp"

// RouterIDPattern is what router.id may be: one token of a JetStream key, which the peers bucket
// (reference/peers) suffixes with a dot and a random part. It lives here, the one place both the
// configuration and the peers read it from, since config imports nothing heavy.
var RouterIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

// validateRouterLimits checks router.limits and router.id: split limits are shared over the
// external cluster, so they need durable.nats_url; the embedded server belongs to one process,
// whose one router has nothing to split with.
func (c *Config) validateRouterLimits(v *validator) {
	switch c.Router.Limits {
	case LimitsLocal:
	case LimitsSplit:
		if c.Durable.NATSURL == "" {
			v.add("router.limits", "%q divides the limits among routers that meet over durable.nats_url, which is not set (the embedded server serves one process)", LimitsSplit)
		}
	default:
		v.add("router.limits", "%q is neither %q (each router enforces every limit) nor %q (the routers alive divide them)", c.Router.Limits, LimitsLocal, LimitsSplit)
	}
	if id := c.Router.ID; id != "" && !RouterIDPattern.MatchString(id) {
		v.add("router.id", "%q is not a router id (1 to 100 letters, digits, '_' or '-')", id)
	}
}
