package kubernetes

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// secret returns the Secret called name in namespace.
func (m *Manifests) secret(namespace, name string) *corev1.Secret {
	for _, s := range m.Secrets {
		if s.Namespace == namespace && s.Name == name {
			return s
		}
	}
	return nil
}

// configMap returns the ConfigMap called name in namespace.
func (m *Manifests) configMap(namespace, name string) *corev1.ConfigMap {
	for _, c := range m.ConfigMaps {
		if c.Namespace == namespace && c.Name == name {
			return c
		}
	}
	return nil
}

func (m *Manifests) hasSecretKey(namespace, name, key string) bool {
	s := m.secret(namespace, name)
	if s == nil {
		return false
	}
	_, inData := s.Data[key]
	_, inString := s.StringData[key]
	return inData || inString
}

func (m *Manifests) hasConfigMapKey(namespace, name, key string) bool {
	c := m.configMap(namespace, name)
	if c == nil {
		return false
	}
	_, ok := c.Data[key]
	return ok
}

// metav1Selector is a workload's selector as a labels.Selector; an empty one is an error, as the
// API server rejects it for apps/v1 workloads.
func metav1Selector(w workload) (labels.Selector, error) {
	s, err := metav1.LabelSelectorAsSelector(w.selector)
	if err != nil {
		return nil, err
	}
	if s.Empty() {
		return nil, errEmptySelector
	}
	return s, nil
}

// probePort is the port a probe checks, if it checks one.
func probePort(p *corev1.Probe) (intstr.IntOrString, bool) {
	switch {
	case p.HTTPGet != nil:
		return p.HTTPGet.Port, true
	case p.TCPSocket != nil:
		return p.TCPSocket.Port, true
	case p.GRPC != nil:
		return intstr.FromInt32(p.GRPC.Port), true
	}
	return intstr.IntOrString{}, false
}

// errEmptySelector: an apps/v1 workload must select its pods by at least one label.
var errEmptySelector = errors.New("empty selector")

// problems collects what a check finds, each prefixed with where it was found.
type problems struct {
	where string
	errs  []error
}

// addf records one problem; go vet checks its format as Printf's.
func (p *problems) addf(format string, a ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %w", p.where, fmt.Errorf(format, a...)))
}

// err joins what was found; nil when nothing was.
func (p *problems) err() error { return errors.Join(p.errs...) }
