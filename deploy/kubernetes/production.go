package kubernetes

import (
	"errors"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/aruntime/arcert/reference/config"
)

// Well-known label keys of the scheduler.
const (
	zoneKey     = "topology.kubernetes.io/zone"
	hostnameKey = "kubernetes.io/hostname"
	gpuResource = corev1.ResourceName("nvidia.com/gpu")
)

// CheckProduction checks what a production deployment promises beyond references that resolve
// (Check): a 3-node NATS cluster with one node per host, its routes naming its own pods, and a
// PodDisruptionBudget; at least two routers, ready on /healthz of their HTTP port, with a preStop
// drain; workers that each get an NVIDIA GPU and read it through NVML; every replicated workload
// spread over zones and covered by a PodDisruptionBudget; every key in a Secret; and a
// NetworkPolicy under which only routers reach workers.
func (m *Manifests) CheckProduction() error {
	pr := &problems{where: m.Dir}
	pods, errs := m.aruntimePods()
	errs = append(errs, m.checkNATS())
	roles := map[string]bool{}
	for _, p := range pods {
		roles[p.role] = true
		if p.from != "Secret" {
			pr.addf("%s: its configuration comes from a %s, not a Secret, though it holds tenant and operator keys", p, p.from)
		}
		for _, prov := range p.cfg.Providers {
			if prov.KeyEnv == "" {
				pr.addf("%s: provider %s's key is inline in %s; give key_env and the key in a Secret", p, prov.Name, p.cfg.Source)
			}
		}
		switch p.role {
		case "router":
			errs = append(errs, checkRouterPod(m.Dir, p))
		case "worker":
			errs = append(errs, checkWorkerPod(m.Dir, p))
		}
	}
	for _, r := range []string{"router", "worker", "cache", "evidence"} {
		if !roles[r] {
			pr.addf("no aruntime %s runs", r)
		}
	}
	for _, w := range m.workloads() {
		if w.replicas < 2 {
			continue
		}
		if !spreads(w.template.Spec.TopologySpreadConstraints, w.template.Labels) {
			pr.addf("%s: %d replicas but no topologySpreadConstraint over %s selecting its pods", w, w.replicas, zoneKey)
		}
		if !m.budgeted(w) {
			pr.addf("%s: %d replicas but no PodDisruptionBudget selects its pods", w, w.replicas)
		}
	}
	return errors.Join(append(errs, pr.err(), m.checkWorkerIngress())...)
}

// checkRouterPod checks a router's replicas, readiness and drain.
func checkRouterPod(dir string, p pod) error {
	pr := &problems{where: dir + ": " + p.String()}
	if p.w.replicas < 2 {
		pr.addf("%d replica(s): a rollout or a node drain would leave no router", p.w.replicas)
	}
	_, httpPort, _ := hostPort(or(p.args["--http"], p.cfg.Router.HTTPListen))
	r := p.c.ReadinessProbe
	if r == nil || r.HTTPGet == nil || r.HTTPGet.Path != "/healthz" {
		pr.addf("readiness is not an HTTP GET of /healthz")
	} else if port, ok := containerPort(p.c, r.HTTPGet.Port); !ok || port != httpPort {
		pr.addf("readiness probes port %s, not router.http_listen's %d", r.HTTPGet.Port.String(), httpPort)
	}
	if l := p.c.Lifecycle; l == nil || l.PreStop == nil || l.PreStop.Sleep == nil || l.PreStop.Sleep.Seconds <= 0 {
		pr.addf("no preStop sleep: the pod would leave the Service's endpoints only after SIGTERM started the drain")
	}
	return pr.err()
}

// checkWorkerPod checks that a worker gets a GPU and reads it through NVML.
func checkWorkerPod(dir string, p pod) error {
	pr := &problems{where: dir + ": " + p.String()}
	limit, ok := p.c.Resources.Limits[gpuResource]
	if !ok || limit.Cmp(resource.MustParse("1")) < 0 {
		pr.addf("no %s limit", gpuResource)
	}
	if req, ok := p.c.Resources.Requests[gpuResource]; ok && req.Cmp(limit) != 0 {
		pr.addf("%s request %s differs from its limit %s", gpuResource, req.String(), limit.String())
	}
	ids, err := workerIDs(p)
	if err != nil {
		return errors.Join(pr.err(), err)
	}
	for _, id := range ids {
		w, ok := p.cfg.Worker(id)
		if !ok {
			continue // checkListens reports it
		}
		backend := or(p.args["--device"], w.Device.Backend)
		if backend != config.DeviceNVML {
			pr.addf("worker %s runs device backend %q, not %q", id, backend, config.DeviceNVML)
		}
		if limit.Value() == 1 && (w.Device.Index == nil || *w.Device.Index != 0) {
			pr.addf("worker %s: the pod sees one GPU, so device.index must be 0 (the default is its position in workers)", id)
		}
	}
	return pr.err()
}

// spreads reports whether a constraint spreads pods with podLabels over zones.
func spreads(cs []corev1.TopologySpreadConstraint, podLabels map[string]string) bool {
	return slices.ContainsFunc(cs, func(c corev1.TopologySpreadConstraint) bool {
		return c.TopologyKey == zoneKey && selects(c.LabelSelector, podLabels)
	})
}

// budgeted reports whether a PodDisruptionBudget selects w's pods.
func (m *Manifests) budgeted(w workload) bool {
	return slices.ContainsFunc(m.PodDisruptionBudgets, func(p *policyv1.PodDisruptionBudget) bool {
		return p.Namespace == w.namespace && selects(p.Spec.Selector, w.template.Labels)
	})
}

// natsSet returns the StatefulSet running the NATS image.
func (m *Manifests) natsSet() *appsv1.StatefulSet {
	for _, s := range m.StatefulSets {
		if slices.ContainsFunc(s.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return strings.HasPrefix(c.Image, natsImage+":") }) {
			return s
		}
	}
	return nil
}

// selects reports whether sel matches podLabels as Kubernetes reads it: an empty selector ({})
// matches every pod (a NetworkPolicy or PodDisruptionBudget over the whole namespace), a nil one
// none.
func selects(sel *metav1.LabelSelector, podLabels map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(podLabels))
}
