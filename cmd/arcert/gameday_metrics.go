package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/aruntime/arcert/chaos/scenario"
)

// gamedayMetrics is the harness's own Prometheus endpoint during a game day, so a Grafana on the
// wall can follow outcomes per tenant and class and the faults in force.
type gamedayMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	faults   *prometheus.GaugeVec
	phase    *prometheus.GaugeVec
	budget   *prometheus.GaugeVec
}

func newGamedayMetrics() *gamedayMetrics {
	m := &gamedayMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "arcert_gameday_requests_total",
			Help: "Game-day requests ended, by tenant, traffic class, outcome class and reason."}, []string{"tenant", "class", "outcome", "reason"}),
		faults: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arcert_gameday_fault_in_force",
			Help: "1 while a scheduled fault is in force, 0 after it healed."}, []string{"fault", "kind"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arcert_gameday_phase",
			Help: "1 for the phase running now, 0 for the others."}, []string{"phase"}),
		budget: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "arcert_gameday_error_budget_left_ratio",
			Help: "Share of each tenant's error budget not yet spent."}, []string{"tenant"}),
	}
	m.reg.MustRegister(m.requests, m.faults, m.phase, m.budget)
	return m
}

// observe updates the metrics from one engine event.
func (m *gamedayMetrics) observe(ev scenario.Event) {
	switch ev.Kind {
	case scenario.EventEntry:
		if e := ev.Entry; e != nil {
			class, reason := string(e.Outcome), string(e.Reason)
			if e.Indeterminate {
				class, reason = "indeterminate", ""
			}
			m.requests.WithLabelValues(validLabel(e.Tenant), validLabel(e.Class), validLabel(class), validLabel(reason)).Inc()
		}
	case scenario.EventInjected:
		if f := ev.Fault; f != nil && (ev.Result == nil || ev.Result.OK()) {
			m.faults.WithLabelValues(f.Name, f.Kind).Set(1)
		}
	case scenario.EventHealed:
		if f := ev.Fault; f != nil && (ev.Result == nil || ev.Result.OK()) {
			m.faults.WithLabelValues(f.Name, f.Kind).Set(0)
		}
	case scenario.EventPhase:
		m.phase.Reset()
		m.phase.WithLabelValues(ev.Phase).Set(1)
	}
}

// validLabel makes a value safe as a label: the runtime chose the reason, and a label that is not
// UTF-8 would make the client library panic.
func validLabel(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// serve listens on addr and serves /metrics until ctx ends; it returns the address it listens on.
func (m *gamedayMetrics) serve(ctx context.Context, addr string, stderr io.Writer) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--metrics-listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "arcert: metrics endpoint: %v\n", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr().String(), nil
}
