// Command build prints an overlay of deploy/kubernetes as `kubectl kustomize OVERLAY` would, for
// machines without kubectl, after checking it as the package's test does: a manifest that would
// not decode, or that references a missing Secret or port, is reported instead of printed; an
// overlay called production must also keep the production promises (Manifests.CheckProduction).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aruntime/arcert/deploy/kubernetes"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: build OVERLAY_DIR (e.g. deploy/kubernetes/overlays/production)")
		os.Exit(2)
	}
	dir := os.Args[1]
	m, err := kubernetes.Load(dir)
	if err == nil {
		err = m.Check()
	}
	if err == nil && filepath.Base(filepath.Clean(dir)) == "production" {
		err = m.CheckProduction()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := kubernetes.Render(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, _ = os.Stdout.Write(out)
}
