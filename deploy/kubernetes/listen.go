package kubernetes

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/aruntime/arcert/reference/config"
)

// stopGrace is the margin cmd/aruntime gives shutdown beyond router.drain_timeout; a pod's
// terminationGracePeriodSeconds must cover its preStop sleep, the drain and this margin, or the
// kubelet kills the runtime mid-drain.
const stopGrace = 10 * time.Second

// envMu serializes parseWithEnv: reference/config reads providers' key_env from the process
// environment, so each parse sets it to what the container would see and restores it after.
var envMu sync.Mutex

// parseWithEnv parses a runtime configuration as the container would, with each providers[].key_env
// set to the container's value or unset when the container has none (not inherited from here).
func parseWithEnv(name string, data []byte, env map[string]string) (*config.Config, error) {
	var keys struct {
		Providers []struct {
			KeyEnv string `yaml:"key_env"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var names []string
	for _, p := range keys.Providers {
		if p.KeyEnv != "" {
			names = append(names, p.KeyEnv)
		}
	}
	var cfg *config.Config
	err := withEnv(names, env, func() error {
		var err error
		cfg, err = config.Parse(name, data)
		return err
	})
	return cfg, err
}

// withEnv runs fn with each of names set in the process environment to its value in env, or unset
// when env has none, and restores the environment after.
func withEnv(names []string, env map[string]string, fn func() error) error {
	envMu.Lock()
	defer envMu.Unlock()
	for _, n := range names {
		old, had := os.LookupEnv(n)
		v, ok := env[n]
		var err error
		if ok {
			err = os.Setenv(n, v)
		} else {
			err = os.Unsetenv(n)
		}
		if err != nil {
			return err
		}
		defer func() {
			if had {
				_ = os.Setenv(n, old)
			} else {
				_ = os.Unsetenv(n)
			}
		}()
	}
	return fn()
}

// checkListens checks that the ports p declares are exactly the ports its role listens on.
func (m *Manifests) checkListens(p pod) []error {
	var errs []error
	var listens []string
	switch p.role {
	case "router":
		listens = []string{or(p.args["--http"], p.cfg.Router.HTTPListen), or(p.args["--grpc"], p.cfg.Router.GRPCListen)}
		errs = append(errs, m.checkRouter(p)...)
	case "worker":
		ids, err := workerIDs(p)
		if err != nil {
			return []error{err}
		}
		for _, id := range ids {
			w, ok := p.cfg.Worker(id)
			if !ok {
				errs = append(errs, fmt.Errorf("worker id %s is not a worker of %s", id, p.cfg.Source))
				continue
			}
			listens = append(listens, or(p.args["--listen"], w.Listen))
		}
	case "cache":
		listens = []string{p.cfg.Cache.Listen}
	case "evidence":
		if p.args["--data"] == "" {
			errs = append(errs, errors.New("no --data: the registry and an embedded JetStream need a data directory"))
		}
		if p.cfg.Durable.NATSURL == "" {
			listens = append(listens, p.cfg.Durable.NATSListen)
		}
		if p.cfg.Artifacts.RegistryListen != "" {
			listens = append(listens, p.cfg.Artifacts.RegistryListen)
		}
	case "provider":
		listens = []string{or(p.args["--listen"], "0.0.0.0:8090")}
	default:
		return []error{fmt.Errorf("%q is no aruntime subcommand this check knows", p.role)}
	}
	var ports []int32
	for _, l := range listens {
		_, port, err := hostPort(l)
		if err != nil {
			errs = append(errs, fmt.Errorf("listen address %q: %w", l, err))
			continue
		}
		if !slices.Contains(ports, port) {
			ports = append(ports, port)
		}
	}
	slices.Sort(ports)
	if have := declared(p.c); !slices.Equal(have, ports) {
		errs = append(errs, fmt.Errorf("declares ports %v, but %s makes it listen on %v", have, p.cfg.Source, ports))
	}
	return errs
}

// workerIDs are the worker ids a worker container runs as: its --id, or, for $(POD_NAME) in a
// StatefulSet, the name of each of its pods.
func workerIDs(p pod) ([]string, error) {
	id := p.args["--id"]
	if id != "$(POD_NAME)" {
		return []string{id}, nil
	}
	fromPodName := slices.ContainsFunc(p.c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAME" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
	})
	if !fromPodName || p.w.kind != "StatefulSet" {
		return nil, errors.New("--id $(POD_NAME) needs a StatefulSet and env POD_NAME from metadata.name")
	}
	ids := make([]string, 0, p.w.replicas)
	for i := range p.w.replicas {
		ids = append(ids, p.w.name+"-"+strconv.Itoa(int(i)))
	}
	return ids, nil
}

// checkRouter checks the router's termination: the grace period covers the preStop sleep, the
// drain and cmd/aruntime's shutdown margin.
func (m *Manifests) checkRouter(p pod) []error {
	var sleep int64
	if l := p.c.Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
		sleep = l.PreStop.Sleep.Seconds
	}
	grace := int64(30) // the API server's default
	if g := p.w.template.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	need := time.Duration(sleep)*time.Second + p.cfg.Router.DrainTimeout + stopGrace
	if time.Duration(grace)*time.Second < need {
		return []error{fmt.Errorf("terminationGracePeriodSeconds %d is shorter than the preStop sleep (%ds) + router.drain_timeout (%s) + %s", grace, sleep, p.cfg.Router.DrainTimeout, stopGrace)}
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkDials checks that every address p's role dials reaches a port a pod declares.
func (m *Manifests) checkDials(p pod) []error {
	c := p.cfg
	var dials []string
	switch p.role {
	case "router":
		for _, w := range c.Workers {
			dials = append(dials, w.DialAddress())
		}
		for _, pr := range c.Providers {
			dials = append(dials, pr.BaseURL)
		}
		dials = append(dials, c.Durable.NATSURL, c.Durable.QueueURL, c.Durable.EvidenceURL)
	case "worker":
		dials = append(dials, c.Cache.Address, c.Artifacts.Registry, c.Durable.NATSURL)
	case "evidence":
		dials = append(dials, c.Durable.NATSURL)
	}
	var errs []error
	for _, d := range dials {
		if d == "" || d == config.EmbeddedBaseURL {
			continue
		}
		host, port, err := hostPort(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("dials %q: %w", d, err))
			continue
		}
		if strings.Count(host, ".") > 1 || net.ParseIP(host) != nil {
			// Outside the overlay: a hosted provider, a registry of the operator's. SERVICE and
			// POD.SERVICE are the overlay's own names, so a typo in one is reported, not skipped.
			continue
		}
		if _, _, err := m.dial(p.w.namespace, host, port); err != nil {
			errs = append(errs, fmt.Errorf("dials %q: %w", d, err))
		}
	}
	return errs
}
