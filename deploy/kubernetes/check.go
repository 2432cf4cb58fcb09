package kubernetes

import (
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Check verifies the references between the objects, which the API server accepts unresolved and
// a cluster only reports as pods that never start or Services without endpoints: every workload
// selects its own pods; every Service selects pods that exist and targets ports they declare;
// every Secret and ConfigMap key referenced exists; every probe's port is declared; every
// container requests and limits CPU and memory; PDBs and NetworkPolicies select pods that exist;
// and the runtime configuration each aruntime pod runs matches the manifests (CheckRuntime).
func (m *Manifests) Check() error {
	pr := &problems{where: m.Dir}
	for _, w := range m.workloads() {
		if sel, err := metav1Selector(w); err != nil || !sel.Matches(labels.Set(w.template.Labels)) {
			pr.addf("%s: its selector does not match its pod template's labels %v", w, w.template.Labels)
		}
		if w.kind == "StatefulSet" && m.service(w.namespace, w.serviceName) == nil {
			pr.addf("%s: serviceName %q is no Service", w, w.serviceName)
		}
		for _, c := range w.template.Spec.Containers {
			m.checkContainer(w, &c, pr)
		}
		m.checkVolumes(w, pr)
	}
	for _, s := range m.Services {
		selected := m.selecting(s.Namespace, s.Spec.Selector)
		if len(selected) == 0 {
			pr.addf("Service %s: its selector %v matches no pod template", s.Name, s.Spec.Selector)
		}
		for _, sp := range s.Spec.Ports {
			for _, w := range selected {
				if _, ok := podPort(w.template, sp.TargetPort); !ok {
					pr.addf("Service %s port %s: targetPort %s is not a port of %s", s.Name, sp.Name, sp.TargetPort.String(), w)
				}
			}
		}
	}
	for _, p := range m.PodDisruptionBudgets {
		if ws, err := m.matching(p.Namespace, p.Spec.Selector); err != nil || len(ws) == 0 {
			pr.addf("PodDisruptionBudget %s: its selector matches no pod template", p.Name)
		}
	}
	for _, np := range m.NetworkPolicies {
		if ws, err := m.matching(np.Namespace, &np.Spec.PodSelector); err != nil || len(ws) == 0 {
			pr.addf("NetworkPolicy %s: its podSelector matches no pod template", np.Name)
		}
		for _, in := range np.Spec.Ingress {
			for _, from := range in.From {
				if from.PodSelector == nil {
					continue
				}
				if ws, err := m.matching(np.Namespace, from.PodSelector); err != nil || len(ws) == 0 {
					pr.addf("NetworkPolicy %s: an ingress podSelector matches no pod template", np.Name)
				}
			}
		}
	}
	return errors.Join(pr.err(), m.CheckRuntime())
}

// checkContainer checks one container's env references, probes and resources.
func (m *Manifests) checkContainer(w workload, c *corev1.Container, pr *problems) {
	where := fmt.Sprintf("%s container %s", w, c.Name)
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil && !m.hasSecretKey(w.namespace, r.Name, r.Key) {
			pr.addf("%s: env %s: Secret %s has no key %q", where, e.Name, r.Name, r.Key)
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !m.hasConfigMapKey(w.namespace, r.Name, r.Key) {
			pr.addf("%s: env %s: ConfigMap %s has no key %q", where, e.Name, r.Name, r.Key)
		}
	}
	for _, f := range c.EnvFrom {
		if f.SecretRef != nil && m.secret(w.namespace, f.SecretRef.Name) == nil {
			pr.addf("%s: envFrom: no Secret %s", where, f.SecretRef.Name)
		}
		if f.ConfigMapRef != nil && m.configMap(w.namespace, f.ConfigMapRef.Name) == nil {
			pr.addf("%s: envFrom: no ConfigMap %s", where, f.ConfigMapRef.Name)
		}
	}
	for name, p := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe, "startupProbe": c.StartupProbe} {
		if p == nil {
			continue
		}
		if port, ok := probePort(p); ok {
			if _, found := containerPort(c, port); !found {
				pr.addf("%s: %s port %s is not a port of the container", where, name, port.String())
			}
		}
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			pr.addf("%s: no %s request", where, res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			pr.addf("%s: no %s limit", where, res)
		}
	}
}

// checkVolumes checks that the Secrets and ConfigMaps a pod mounts exist with the keys it picks.
func (m *Manifests) checkVolumes(w workload, pr *problems) {
	for _, v := range w.template.Spec.Volumes {
		switch {
		case v.Secret != nil:
			s := m.secret(w.namespace, v.Secret.SecretName)
			if s == nil {
				pr.addf("%s volume %s: no Secret %s", w, v.Name, v.Secret.SecretName)
				continue
			}
			for _, it := range v.Secret.Items {
				if _, ok := s.Data[it.Key]; !ok {
					pr.addf("%s volume %s: Secret %s has no key %q", w, v.Name, s.Name, it.Key)
				}
			}
		case v.ConfigMap != nil:
			cm := m.configMap(w.namespace, v.ConfigMap.Name)
			if cm == nil {
				pr.addf("%s volume %s: no ConfigMap %s", w, v.Name, v.ConfigMap.Name)
				continue
			}
			for _, it := range v.ConfigMap.Items {
				if _, ok := cm.Data[it.Key]; !ok {
					pr.addf("%s volume %s: ConfigMap %s has no key %q", w, v.Name, cm.Name, it.Key)
				}
			}
		}
	}
	for _, c := range w.template.Spec.Containers {
		for _, vm := range c.VolumeMounts {
			if !slices.ContainsFunc(w.template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }) &&
				!slices.Contains(w.claims, vm.Name) {
				pr.addf("%s container %s mounts %s, which is no volume of the pod", w, c.Name, vm.Name)
			}
		}
	}
}
