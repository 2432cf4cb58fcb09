package runtime

import (
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/connlimit"
)

// limitConnections bounds the router's HTTP listener to router.max_connections and exports what
// the bound does: the connections open, and those answered shed because it was reached.
func limitConnections(reg prometheus.Registerer, l net.Listener, r config.Router) (net.Listener, error) {
	limited := connlimit.New(l, r.MaxConnections, r.RetryAfter)
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aruntime_http_connections_open",
			Help: "HTTP connections the router holds open (at most router.max_connections)."},
			func() float64 { return float64(limited.Open()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "aruntime_http_connections_refused_total",
			Help: "HTTP connections answered 503 shed/capacity at once because router.max_connections were open."},
			func() float64 { return float64(limited.Refused()) }),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return limited, nil
}
