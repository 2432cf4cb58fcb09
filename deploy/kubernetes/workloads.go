package kubernetes

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// workload is a Deployment or StatefulSet: what makes pods, with the template they get.
type workload struct {
	kind, namespace, name string
	// serviceName is a StatefulSet's governing Service, under which its pods have DNS names.
	serviceName string
	replicas    int32
	selector    *metav1.LabelSelector
	template    *corev1.PodTemplateSpec
	// claims are a StatefulSet's volumeClaimTemplates, which its pods mount as volumes.
	claims []string
}

func (w workload) String() string { return w.kind + " " + w.name }

// workloads lists the Deployments and StatefulSets of m.
func (m *Manifests) workloads() []workload {
	var out []workload
	for _, d := range m.Deployments {
		out = append(out, workload{"Deployment", d.Namespace, d.Name, "", replicas(d.Spec.Replicas), d.Spec.Selector, &d.Spec.Template, nil})
	}
	for _, s := range m.StatefulSets {
		w := workload{"StatefulSet", s.Namespace, s.Name, s.Spec.ServiceName, replicas(s.Spec.Replicas), s.Spec.Selector, &s.Spec.Template, nil}
		for _, c := range s.Spec.VolumeClaimTemplates {
			w.claims = append(w.claims, c.Name)
		}
		out = append(out, w)
	}
	return out
}

// replicas is a workload's replica count; the API server defaults an unset one to 1.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

// selecting returns the workloads in namespace whose pods carry every label of sel (a Service's
// selector). An empty selector selects nothing here: a Service without one has no endpoints the
// manifests manage.
func (m *Manifests) selecting(namespace string, sel map[string]string) []workload {
	if len(sel) == 0 {
		return nil
	}
	var out []workload
	for _, w := range m.workloads() {
		if w.namespace == namespace && labels.SelectorFromSet(sel).Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

// matching returns the workloads in namespace whose pods a label selector (of a PDB or a
// NetworkPolicy) matches.
func (m *Manifests) matching(namespace string, sel *metav1.LabelSelector) ([]workload, error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	var out []workload
	for _, w := range m.workloads() {
		if w.namespace == namespace && s.Matches(labels.Set(w.template.Labels)) { // {} matches all, nil none
			out = append(out, w)
		}
	}
	return out, nil
}

// containerPort resolves port (a number or a port name) to the container port it means in c;
// ok is false when c declares no such port.
func containerPort(c *corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if port.Type == intstr.String && p.Name == port.StrVal || port.Type == intstr.Int && p.ContainerPort == port.IntVal {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// podPort resolves port in any container of a pod template.
func podPort(t *corev1.PodTemplateSpec, port intstr.IntOrString) (int32, bool) {
	for i := range t.Spec.Containers {
		if n, ok := containerPort(&t.Spec.Containers[i], port); ok {
			return n, true
		}
	}
	return 0, false
}

// service returns the Service called name in namespace.
func (m *Manifests) service(namespace, name string) *corev1.Service {
	for _, s := range m.Services {
		if s.Namespace == namespace && s.Name == name {
			return s
		}
	}
	return nil
}

// dial resolves host:port, as a pod in namespace dials it (host a Service name, or POD.SERVICE for
// a pod under a headless Service), to the container port it reaches on the Service's pods.
func (m *Manifests) dial(namespace, host string, port int32) (workload, int32, error) {
	svcName, pod := host, ""
	if i := lastDot(host); i >= 0 {
		pod, svcName = host[:i], host[i+1:]
	}
	s := m.service(namespace, svcName)
	if s == nil {
		return workload{}, 0, fmt.Errorf("no Service %q in namespace %q", svcName, namespace)
	}
	if pod != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
		return workload{}, 0, fmt.Errorf("%s names pod %q, but Service %s is not headless", host, pod, svcName)
	}
	for _, sp := range s.Spec.Ports {
		if sp.Port != port {
			continue
		}
		for _, w := range m.selecting(namespace, s.Spec.Selector) {
			if pod != "" && (w.serviceName != svcName || !podOf(w, pod)) {
				continue
			}
			if n, ok := podPort(w.template, sp.TargetPort); ok {
				return w, n, nil
			}
		}
		return workload{}, 0, fmt.Errorf("service %s port %d targets %s, which no pod it selects declares", svcName, port, sp.TargetPort.String())
	}
	return workload{}, 0, fmt.Errorf("service %s has no port %d", svcName, port)
}

// podOf reports whether pod is the name of one of w's pods (a StatefulSet's NAME-ORDINAL).
func podOf(w workload, pod string) bool {
	if w.kind != "StatefulSet" {
		return false
	}
	for i := range w.replicas {
		if pod == w.name+"-"+strconv.Itoa(int(i)) {
			return true
		}
	}
	return false
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}
