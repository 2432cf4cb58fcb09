package routing

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
)

// workerDialer dials a worker's address as gRPC's own dialer does (TCP, or a Unix socket for a
// unix: address; SO_KEEPALIVE on with the system's timing; the connection handed over as it is,
// so gRPC still sets TCP_USER_TIMEOUT from the keepalive settings) and remembers the last
// connections it made. The router can then close the connection a worker it did not expect
// answered on (errAnotherWorker): gRPC dials again, and whatever stands between the router and
// the worker is asked afresh where it is. Toxiproxy resolves its upstream's name for every new
// connection, so a restarted container behind it is found at once; gRPC's own DNS resolver asks
// again only after a failed connection, and at most every 30 s. Kept, the connection is healthy
// as a transport, and the declared worker would stay out of rotation for as long as it lived.
//
// A dialer of its own turns off gRPC's proxy support (HTTPS_PROXY): worker connections are the
// runtime's own, never proxied, and grpc.WithNoProxy says so where the client is built.
type workerDialer struct {
	mu     sync.Mutex
	recent []net.Conn // the last keptConns connections dialled, oldest first
}

// keptConns is how many of its latest connections a worker's dialer remembers: gRPC holds one at
// a time per worker, and a few more cover the ones it is replacing.
const keptConns = 8

// keepaliveDialer turns SO_KEEPALIVE on and leaves its timing to the system, as gRPC's does.
var keepaliveDialer = net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: -1, Interval: -1, Count: -1}}

// dial is the worker connection's dialer (grpc.WithContextDialer).
func (d *workerDialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	network, address := "tcp", addr
	if rest, ok := strings.CutPrefix(addr, "unix://"); ok {
		network, address = "unix", rest
	} else if rest, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", rest
	}
	c, err := keepaliveDialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.recent = append(d.recent, c)
	if n := len(d.recent); n > keptConns {
		d.recent = slices.Clone(d.recent[n-keptConns:])
	}
	d.mu.Unlock()
	return c, nil
}

// drop closes the remembered connection whose local address is local, the one another worker
// answered on, and reports whether there was one. Closing a connection gRPC already closed does
// no harm; a Unix socket's empty local address matches none.
func (d *workerDialer) drop(local net.Addr) bool {
	if local == nil || local.String() == "" {
		return false
	}
	d.mu.Lock()
	i := slices.IndexFunc(d.recent, func(c net.Conn) bool { return c.LocalAddr().String() == local.String() })
	var c net.Conn
	if i >= 0 {
		c = d.recent[i]
		d.recent = slices.Delete(d.recent, i, i+1)
	}
	d.mu.Unlock()
	if c == nil {
		return false
	}
	_ = c.Close()
	return true
}

// redial closes the connection to w's address that another worker answered on (local is its
// local address) so that gRPC dials again. again says the address had already answered as
// another worker: while it keeps doing so, every health poll dials and closes a connection, and
// only the first is worth a warning.
func (w *Worker) redial(local net.Addr, cause error, again bool) {
	if w.dialer == nil || !w.dialer.drop(local) { // a Worker built by hand (tests) dials nothing
		return
	}
	log := w.pool.log.Warn
	if again {
		log = w.pool.log.Debug
	}
	log("worker connection closed, to be dialled again", "worker", w.ID, "err", cause)
}
