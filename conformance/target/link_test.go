package target

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aruntime/arcert/api/link"
)

// TestSchemaRolesAreTheLinkRoles: the schema's enum of dependency roles is link.Roles, so a role
// the fault engine knows is one a target file may declare, and no other.
func TestSchemaRolesAreTheLinkRoles(t *testing.T) {
	var s struct {
		Properties struct {
			Dependencies struct {
				Items struct {
					Properties struct {
						Role struct {
							Enum []link.Role `json:"enum"`
						} `json:"role"`
					} `json:"properties"`
				} `json:"items"`
			} `json:"dependencies"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(SchemaJSON(), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Properties.Dependencies.Items.Properties.Role.Enum; !slices.Equal(got, link.Roles()) {
		t.Fatalf("schema.json dependency roles %v, link.Roles() %v", got, link.Roles())
	}
}

// TestDependenciesDecodeIntoLinks: a dependency's role, name, part, dial and upstream land in its
// link.Link, and observe beside it.
func TestDependenciesDecodeIntoLinks(t *testing.T) {
	tg, err := Load("../../fixtures/targets/containers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := link.Link{Role: link.RoleRegion, Name: "eu-west", Part: "worker-a", Dial: "toxiproxy:7001", Upstream: "worker-a:9000"}
	if len(tg.Dependencies) == 0 || tg.Dependencies[0].Link != want {
		t.Fatalf("first dependency: want %+v, got %+v", want, tg.Dependencies)
	}
	for _, d := range tg.Dependencies {
		if !d.Role.Valid() {
			t.Errorf("dependency %s %s: role %q is not a link role", d.Role, d.Name, d.Role)
		}
	}
	const seen = "http://127.0.0.1:9/v1/provider/seen"
	old := `upstream: "stand-in OpenAI-compatible provider, us-east"}`
	data := strings.Replace(string(reference(t)), old, old[:len(old)-1]+`, observe: "`+seen+`"}`, 1)
	tg, err = Parse("reference.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	var observed []string
	for _, d := range tg.Dependencies {
		if d.Role == link.RoleProvider {
			observed = append(observed, d.Name+" "+d.Observe)
		}
	}
	if !slices.Equal(observed, []string{"hosted-stand-in " + seen}) {
		t.Fatalf("provider dependencies with observe: %q", observed)
	}
}
