package spec

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// exported compiles the schema Schema() hands out, as an editor or CI linter would.
func exported(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("gameday.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("gameday.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func instance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := toJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestSchemaAcceptsEveryFixture: the exported schema accepts every shipped scenario.
func TestSchemaAcceptsEveryFixture(t *testing.T) {
	s := exported(t)
	for _, path := range fixtures(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(instance(t, data)); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// TestSchemaRejectsBrokenFiles: the schema alone refuses the structural mistakes.
func TestSchemaRejectsBrokenFiles(t *testing.T) {
	s := exported(t)
	base := evacuation(t)
	for name, edit := range map[string][2]string{
		"wrong kind":        {"kind: GameDay", "kind: GameNight"},
		"unknown field":     {"  seed:", "  sead:"},
		"no phases":         {"  phases:", "  xphases:"},
		"two targets":       {"{embedded: true}", "{embedded: true, file: t.yaml}"},
		"unknown fault":     {"kind: down", "kind: flood"},
		"link role unknown": {"role: region", "role: planet"},
		"share over one":    {"errorBudget: {globex: 0.2}", "errorBudget: {globex: 2}"},
		"missing parameter": {"kind: down", "kind: bandwidth"},
	} {
		broken := strings.Replace(base, edit[0], edit[1], 1)
		if broken == base {
			t.Fatalf("%s: %q not in the fixture", name, edit[0])
		}
		if err := s.Validate(instance(t, []byte(broken))); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
	if err := s.Validate(instance(t, []byte("apiVersion: arcert.dev/v1\nkind: GameDay\nmetadata: {name: x}\nspec: {target: {embedded: true}, seed: 1, steadyState: {probes: 1, within: 1s, tenants: [{tenant: a}]}, phases: []}\n"))); err == nil {
		t.Error("empty phases accepted")
	}
}
