// Package kubernetes holds the Kubernetes manifests of the reference runtime (base/ and
// overlays/, built with kustomize) and the checks that stand in for a cluster: no cluster runs
// where the manifests are made, so Build renders an overlay with the kustomize Go API, Decode
// reads every object into its Kubernetes API type rejecting unknown fields, and Check verifies
// what the API server would not: that Services select pods that exist, that every Secret,
// ConfigMap and port referenced is there, and that the runtime configuration each pod runs
// listens and dials where the manifests say.
package kubernetes

import (
	"fmt"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Build renders the kustomization in dir (an overlay or the base) as `kubectl kustomize dir`
// would, from the files on disk.
func Build(dir string) (resmap.ResMap, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: building %s: %w", dir, err)
	}
	return rm, nil
}

// Render builds dir and returns its objects as one multi-document YAML stream.
func Render(dir string) ([]byte, error) {
	rm, err := Build(dir)
	if err != nil {
		return nil, err
	}
	out, err := rm.AsYaml()
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %s as YAML: %w", dir, err)
	}
	return out, nil
}
