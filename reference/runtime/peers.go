package runtime

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/aruntime/arcert/reference/admission"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/peers"
	"github.com/aruntime/arcert/reference/router"
)

// startPeers, under router.limits: split, joins the runtime's other routers over JetStream and
// keeps r enforcing its share of the declared limits (reference/peers). It returns once the first
// share is in force, before the router serves anything, and fails rather than serve with the
// whole limit when the share cannot be learned. The membership outlives the front doors: the key
// is deleted only once the router has drained, so the others do not grow while its work runs.
func (rt *Runtime) startPeers(startCtx context.Context, r *router.Router) error {
	if rt.cfg.Router.Limits != config.LimitsSplit {
		return nil
	}
	if rt.durable == nil {
		return fmt.Errorf("%w: router.limits %q needs durable.nats_url", ErrConfig, config.LimitsSplit)
	}
	id := rt.cfg.Router.ID
	if id == "" {
		id = hostID()
	}
	log := rt.log.With("part", "peers")
	var m *peers.Membership
	err := withClusterPatience(startCtx, rt.log, "the routers' presence bucket", func(ctx context.Context) (err error) {
		m, err = peers.Join(ctx, peers.Options{JetStream: rt.durable.js, ID: id, Replicas: rt.cfg.Durable.Replicas,
			Registerer: rt.registry, Logger: log, OnChange: func(v peers.View) {
				if err := r.SetShare(admission.Share{Index: v.Index, Of: v.Of}); err != nil {
					log.Error("setting this router's share", "err", err)
				}
			}})
		return err
	})
	if err != nil {
		return fmt.Errorf("router peers: %w", err)
	}
	if err := rt.registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "aruntime_capacity_declared_slots",
		Help: "Slots offered by healthy workers before the split among routers; aruntime_capacity_slots is this router's part."},
		func() float64 { return float64(r.ShareStatus().DeclaredCapacity) })); err != nil {
		m.Leave() // this router will not serve: the others need not wait for its key to expire
		return fmt.Errorf("router peers: %w", err)
	}
	v := m.View()
	rt.log.Info("router limits split", "key", m.Key(), "index", v.Index, "routers", v.Of)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-rt.frontStopped; cancel() }()
	rt.goDependent("router peers", func() error {
		defer cancel()
		return m.Run(ctx)
	})
	return nil
}

// hostID is the host name as a router id: characters a key cannot hold become '-'.
func hostID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "router"
	}
	h = strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			return c
		}
		return '-'
	}, h)
	return h[:min(len(h), 100)]
}
