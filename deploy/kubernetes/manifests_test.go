package kubernetes

import (
	"testing"
)

// overlays are the overlays users deploy; production must meet CheckProduction as well.
var overlays = []string{"overlays/dev", "overlays/production"}

// TestOverlaysBuildDecodeAndCheck builds every overlay as `kubectl kustomize` would, decodes each
// object strictly into its API type and checks the references between them and the runtime
// configuration their pods run.
func TestOverlaysBuildDecodeAndCheck(t *testing.T) {
	for _, dir := range overlays {
		t.Run(dir, func(t *testing.T) {
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestProduction checks the production overlay's promises.
func TestProduction(t *testing.T) {
	m, err := Load("overlays/production")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckProduction(); err != nil {
		t.Fatal(err)
	}
}
