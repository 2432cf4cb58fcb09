package grpcdriver

import "google.golang.org/grpc/connectivity"

// OnlyReady returns a Client that sends each call to the next router whose address ready accepts,
// sharing this one's connections (close the original, not this one): a load balancer's spread,
// which sends only to routers that report ready. When none is ready it takes the next in turn
// anyway; the caller's validity gate says whether that happened.
func (c *Client) OnlyReady(ready func(addr string) bool) *Client {
	return &Client{routes: c.routes, ready: ready}
}

// Endpoints lists the address of every router the Client spreads calls over, the first first.
func (c *Client) Endpoints() []string {
	out := make([]string, 0, len(c.routes))
	for _, r := range c.routes {
		out = append(out, r.addr)
	}
	return out
}

// pickReady is the first route from turn n on (round-robin) that ready accepts, or the n-th in
// turn when none does.
func pickReady(routes []route, n uint64, ready func(string) bool) route {
	k := uint64(len(routes))
	for i := range k {
		if r := routes[(n+i)%k]; ready(r.addr) {
			return r
		}
	}
	return routes[n%k]
}

// Connected reports whether the connection to router addr can carry a call now (ready, or idle
// and about to connect), and when it cannot, asks it to connect again at once: after a router
// restarts, gRPC's reconnect backoff would otherwise keep the channel failing calls fast for
// seconds after the router serves again, which a balancer's health check would not see as the
// router's fault. An address the Client does not know is never connected.
func (c *Client) Connected(addr string) bool {
	for _, r := range c.routes {
		if r.addr != addr {
			continue
		}
		switch r.conn.GetState() {
		case connectivity.Ready:
			return true
		case connectivity.Idle:
			// The call would connect; connecting now saves it the wait.
			r.conn.Connect()
			return true
		case connectivity.TransientFailure:
			r.conn.ResetConnectBackoff()
		}
		r.conn.Connect()
		return false
	}
	return false
}
