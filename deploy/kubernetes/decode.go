package kubernetes

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/resmap"
)

// Manifests are the objects of one built overlay, each in its Kubernetes API type.
type Manifests struct {
	Dir                  string
	Deployments          []*appsv1.Deployment
	StatefulSets         []*appsv1.StatefulSet
	Services             []*corev1.Service
	Secrets              []*corev1.Secret
	ConfigMaps           []*corev1.ConfigMap
	PodDisruptionBudgets []*policyv1.PodDisruptionBudget
	NetworkPolicies      []*networkingv1.NetworkPolicy
}

// Load builds the kustomization in dir and decodes every object it renders.
func Load(dir string) (*Manifests, error) {
	rm, err := Build(dir)
	if err != nil {
		return nil, err
	}
	return Decode(dir, rm)
}

// Decode reads each object of rm into its typed struct. Decoding is strict, as the API server's
// strict field validation is: an unknown or misspelt field, a duplicate field or a field in the
// wrong case fails, and so does a kind this package has no type for (it could hide anything).
func Decode(dir string, rm resmap.ResMap) (*Manifests, error) {
	m := &Manifests{Dir: dir}
	var errs []error
	for _, r := range rm.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %s: %w", dir, r.GetKind(), r.GetName(), err))
			continue
		}
		if err := m.add(r.GetApiVersion(), r.GetKind(), data); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %s: %w", dir, r.GetKind(), r.GetName(), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// add decodes one object into the list of its kind.
func (m *Manifests) add(apiVersion, kind string, data []byte) error {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return strictInto(data, &m.Deployments)
	case "apps/v1 StatefulSet":
		return strictInto(data, &m.StatefulSets)
	case "v1 Service":
		return strictInto(data, &m.Services)
	case "v1 Secret":
		return strictInto(data, &m.Secrets)
	case "v1 ConfigMap":
		return strictInto(data, &m.ConfigMaps)
	case "policy/v1 PodDisruptionBudget":
		return strictInto(data, &m.PodDisruptionBudgets)
	case "networking.k8s.io/v1 NetworkPolicy":
		return strictInto(data, &m.NetworkPolicies)
	}
	return fmt.Errorf("no API type known for %s %s: add it to Decode or drop the object", apiVersion, kind)
}

// strictInto decodes data into a new T and appends it to list.
func strictInto[T any](data []byte, list *[]*T) error {
	obj := new(T)
	strict, err := k8sjson.UnmarshalStrict(data, obj)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return fmt.Errorf("strict decoding: %w", errors.Join(strict...))
	}
	*list = append(*list, obj)
	return nil
}
