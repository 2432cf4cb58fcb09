package kubernetes

import (
	"errors"
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
)

// checkWorkerIngress checks that only routers reach workers: some NetworkPolicy isolates the
// worker pods for ingress, and every ingress rule of every policy that selects them (policies add
// up) admits only pods of router workloads, in the namespace, on ports the workers declare.
func (m *Manifests) checkWorkerIngress() error {
	pods, _ := m.aruntimePods()
	var workers, routers []workload
	for _, p := range pods {
		switch p.role {
		case "worker":
			workers = append(workers, p.w)
		case "router":
			routers = append(routers, p.w)
		}
	}
	pr := &problems{where: m.Dir}
	for _, w := range workers {
		isolated := false
		for _, np := range m.NetworkPolicies {
			if np.Namespace != w.namespace || !selects(&np.Spec.PodSelector, w.template.Labels) {
				continue
			}
			if len(np.Spec.PolicyTypes) == 0 || slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
				isolated = true
			}
			for _, rule := range np.Spec.Ingress {
				if err := m.routersOnly(w, routers, rule); err != nil {
					pr.addf("NetworkPolicy %s lets more than routers reach %s: %w", np.Name, w, err)
				}
			}
		}
		if !isolated {
			pr.addf("%s: no NetworkPolicy isolates its pods for ingress, so any pod reaches them", w)
		}
	}
	return pr.err()
}

// routersOnly checks one ingress rule of a policy selecting worker w.
func (m *Manifests) routersOnly(w workload, routers []workload, rule networkingv1.NetworkPolicyIngressRule) error {
	if len(rule.From) == 0 {
		return errors.New("a rule without from admits every source")
	}
	for _, peer := range rule.From {
		if peer.IPBlock != nil || peer.NamespaceSelector != nil || peer.PodSelector == nil {
			return errors.New("a peer that is not a podSelector of the namespace")
		}
		matched, err := m.matching(w.namespace, peer.PodSelector)
		if err != nil {
			return err
		}
		if len(matched) == 0 {
			return errors.New("a podSelector that matches no pods")
		}
		for _, x := range matched {
			if !slices.ContainsFunc(routers, func(r workload) bool { return r.kind == x.kind && r.name == x.name }) {
				return fmt.Errorf("its podSelector matches %s", x)
			}
		}
	}
	if len(rule.Ports) == 0 {
		return errors.New("a rule without ports admits every port")
	}
	for _, p := range rule.Ports {
		if p.Port == nil {
			return errors.New("a port entry without a port admits every port")
		}
		if _, ok := podPort(w.template, *p.Port); !ok {
			return fmt.Errorf("port %s is not a port of %s", p.Port.String(), w)
		}
	}
	return nil
}
