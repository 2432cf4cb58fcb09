package kubernetes

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// natsImage is the repository of the nats-server image (deploy/images).
const natsImage = "arcert/nats"

// natsReplicas is the size of the JetStream cluster: a quorum of two survives one node.
const natsReplicas = 3

// checkNATS checks the NATS StatefulSet: three replicas, never two on one host, and a nats.conf
// that nats-server itself accepts without warnings, listening on the declared ports, with
// JetStream stored on a persistent volume and routes that name exactly the set's own pods under
// its headless Service.
func (m *Manifests) checkNATS() error {
	s := m.natsSet()
	if s == nil {
		return fmt.Errorf("%s: no StatefulSet runs %s", m.Dir, natsImage)
	}
	var w workload
	for _, x := range m.workloads() {
		if x.kind == "StatefulSet" && x.name == s.Name && x.namespace == s.Namespace {
			w = x
		}
	}
	pr := &problems{where: m.Dir + ": " + w.String()}
	if w.replicas != natsReplicas {
		pr.addf("%d replicas, want %d (a quorum that survives one node)", w.replicas, natsReplicas)
	}
	if !m.budgeted(w) {
		pr.addf("no PodDisruptionBudget selects its pods")
	}
	for _, b := range m.PodDisruptionBudgets {
		if b.Namespace != w.namespace || !selects(b.Spec.Selector, w.template.Labels) {
			continue
		}
		quorum := w.replicas/2 + 1
		ok := false
		switch minA, maxU := b.Spec.MinAvailable, b.Spec.MaxUnavailable; {
		case minA != nil && minA.Type == intstr.Int:
			ok = minA.IntVal >= quorum
		case maxU != nil && maxU.Type == intstr.Int:
			ok = maxU.IntVal <= w.replicas-quorum
		}
		if !ok {
			pr.addf("PodDisruptionBudget %s lets a drain take the JetStream quorum (%d of %d): want minAvailable %d or maxUnavailable %d, as numbers",
				b.Name, quorum, w.replicas, quorum, w.replicas-quorum)
		}
	}
	aff := w.template.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || !slices.ContainsFunc(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, func(t corev1.PodAffinityTerm) bool {
		return t.TopologyKey == hostnameKey && selects(t.LabelSelector, w.template.Labels)
	}) {
		pr.addf("no required pod anti-affinity over %s: two nodes of the quorum could share a host", hostnameKey)
	}
	i := slices.IndexFunc(w.template.Spec.Containers, func(c corev1.Container) bool { return strings.HasPrefix(c.Image, natsImage+":") })
	c := &w.template.Spec.Containers[i]
	if c.ReadinessProbe == nil {
		pr.addf("container %s has no readiness probe", c.Name)
	}
	if err := m.checkNATSConf(w, c); err != nil {
		pr.addf("container %s: %w", c.Name, err)
	}
	return pr.err()
}

// checkNATSConf parses the container's nats.conf as nats-server does, as pod 0 would see it.
func (m *Manifests) checkNATSConf(w workload, c *corev1.Container) error {
	file := ""
	for i, a := range c.Args {
		if (a == "--config" || a == "-c") && i+1 < len(c.Args) {
			file = c.Args[i+1]
		}
	}
	if file == "" {
		return errors.New("no --config argument")
	}
	data, _, err := m.mounted(w, c, file)
	if err != nil {
		return err
	}
	pod0 := w.name + "-0"
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			env[e.Name] = pod0
		} else if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	var o server.Options
	names := make([]string, 0, len(env))
	for n := range env {
		names = append(names, n)
	}
	if err := withEnv(names, env, func() error { return o.ProcessConfigString(string(data)) }); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	pr := &problems{where: file}
	have := declared(c)
	for what, port := range map[string]int{"listen": o.Port, "http": o.HTTPPort, "cluster.listen": o.Cluster.Port} {
		if !slices.Contains(have, int32(port)) {
			pr.addf("%s port %d is not a container port (%v)", what, port, have)
		}
	}
	if o.ServerName != pod0 {
		pr.addf("pod %s would be server %q: JetStream clustering needs each node named apart, e.g. server_name: $POD_NAME", pod0, o.ServerName)
	}
	if g := w.template.Spec.TerminationGracePeriodSeconds; o.LameDuckDuration > 0 && (g == nil || time.Duration(*g)*time.Second <= o.LameDuckDuration) {
		pr.addf("terminationGracePeriodSeconds does not outlast lame_duck_duration %s: the kubelet would kill the server before its clients moved", o.LameDuckDuration)
	}
	if !o.JetStream {
		pr.addf("JetStream is not enabled")
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool {
		return slices.Contains(w.claims, vm.Name) && strings.HasPrefix(path.Clean(o.StoreDir)+"/", path.Clean(vm.MountPath)+"/")
	}) {
		pr.addf("JetStream's store_dir %q is on no persistent volume claim", o.StoreDir)
	}
	var routes, want []string
	for _, r := range o.Routes {
		routes = append(routes, r.String())
	}
	for i := range w.replicas {
		host := w.name + "-" + strconv.Itoa(int(i)) + "." + w.serviceName
		want = append(want, "nats://"+host+":"+strconv.Itoa(o.Cluster.Port))
		if _, port, err := m.dial(w.namespace, host, int32(o.Cluster.Port)); err != nil {
			pr.addf("route to %s: %w", host, err)
		} else if port != int32(o.Cluster.Port) {
			pr.addf("route to %s reaches container port %d, not cluster.listen's %d", host, port, o.Cluster.Port)
		}
	}
	slices.Sort(routes)
	if !slices.Equal(routes, want) {
		pr.addf("cluster routes %v, want the set's own pods %v", routes, want)
	}
	return pr.err()
}
