package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/containers"
)

// TestStartContainersGivesAServingTarget checks what `certify --containers` gets: the containers
// target with endpoints that serve, one fault link per declared dependency, the workers as parts
// to kill, and a stop that leaves nothing behind.
func TestStartContainersGivesAServingTarget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	tgt, setup, stop, err := startContainers(ctx, &progress)
	if errors.Is(err, containers.ErrUnavailable) && os.Getenv("CI") == "" {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	defer stop()
	t.Log(progress.String())
	if len(setup.Engine.Links()) != len(tgt.Dependencies) {
		t.Errorf("%d links for %d declared dependencies", len(setup.Engine.Links()), len(tgt.Dependencies))
	}
	if got := setup.Nodes.Parts(containers.RoleWorker); len(got) != 3 {
		t.Errorf("worker parts %v, want 3", got)
	}
	body := `{"model":"arcert-sim-small","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tgt.Endpoints.HTTP+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tgt.Tenants[0].Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if got := resp.Header.Get("ARuntime-Outcome"); got != "completed" {
		t.Fatalf("outcome %q (%s), want completed", got, resp.Status)
	}
	for _, dep := range tgt.Dependencies {
		if dep.Role != link.RoleProvider {
			continue
		}
		resp, err := http.Get(dep.Observe)
		if err != nil {
			t.Fatalf("provider observe URL: %v", err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", dep.Observe, resp.Status)
		}
	}
	if err := setup.Nodes.Residue(ctx); err != nil {
		t.Fatal(err)
	}
}
