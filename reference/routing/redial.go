package routing

import (
	"context"
	"net"
	"sync"
)

// liveConns dials a worker's address and keeps the connections it made, so that the router can
// close one a worker it did not expect answers on (errAnotherWorker). gRPC then dials again, and
// whatever stands between the router and the worker (a proxy, a name that resolves to the address
// a restarted container took) is asked afresh where the worker is. Without this the router would
// keep the connection, healthy as a transport and answered by the wrong worker, for as long as it
// lives, and the declared worker would stay out of rotation after it came back.
type liveConns struct {
	mu    sync.Mutex
	conns map[*liveConn]struct{}
}

// dial is the worker connection's dialer (grpc.WithContextDialer): a TCP dial, as gRPC's own.
func (l *liveConns) dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	lc := &liveConn{Conn: c, owner: l}
	l.mu.Lock()
	if l.conns == nil {
		l.conns = map[*liveConn]struct{}{}
	}
	l.conns[lc] = struct{}{}
	l.mu.Unlock()
	return lc, nil
}

// drop closes every connection the dialer made that is still open, and says how many it closed.
func (l *liveConns) drop() int {
	l.mu.Lock()
	open := make([]*liveConn, 0, len(l.conns))
	for c := range l.conns {
		open = append(open, c)
	}
	l.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
	return len(open)
}

// liveConn is one dialled connection, which forgets itself from its dialer when closed.
type liveConn struct {
	net.Conn
	owner *liveConns
	once  sync.Once
}

func (c *liveConn) Close() error {
	c.once.Do(func() {
		c.owner.mu.Lock()
		delete(c.owner.conns, c)
		c.owner.mu.Unlock()
	})
	return c.Conn.Close()
}

// redial closes w's connections after its address answered as another worker (see liveConns),
// so that gRPC dials it again.
func (w *Worker) redial(cause error) {
	if w.live == nil { // an offline pool's worker (tests) has no connections of its own
		return
	}
	if n := w.live.drop(); n > 0 {
		w.pool.log.Warn("worker connection closed, to be dialled again", "worker", w.ID, "connections", n, "err", cause)
	}
}
