package yamlschema

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

const testSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["name"],
  "properties": {
    "name": {"type": "string"},
    "count": {"type": "integer"}
  }
}`

type doc struct {
	Name  string `yaml:"name"`
	Count int    `yaml:"count"`
}

func format() *Format {
	return &Format{
		Resource: "test.json", Schema: []byte(testSchema), Noun: "a test file", MaxBytes: 64,
		Unknown: "unknown field",
		Say: func(field string, k jsonschema.ErrorKind) string {
			if _, ok := k.(*kind.Type); ok {
				return "wrong type at " + field
			}
			return ""
		},
	}
}

// TestDecode: each stage's mistakes come back located, in the format's words; a good file is
// decoded into the caller's type.
func TestDecode(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"too big", strings.Repeat("#", 65), "f.yaml: file is 65 bytes, more than the 64 a test file may be"},
		{"empty", "# nothing\n", "f.yaml: file is empty"},
		{"syntax", "name: [\n", "f.yaml:1: did not find expected node content"},
		{"unknown key at its own line", "name: a\n\nextra: 1\n", "f.yaml:3: extra: unknown field"},
		{"said in the format's words", "name: a\ncount: lots\n", "f.yaml:2: count: wrong type at count"},
		{"missing", "count: 1\n", "f.yaml:1: missing property 'name'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			_, probs, err := format().Decode("f.yaml", []byte(tc.data), &d)
			if err != nil {
				t.Fatal(err)
			}
			got := Join(probs, func(p *Problem) error { return p })
			if got == nil || got.Error() != tc.want {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
	var d doc
	root, probs, err := format().Decode("f.yaml", []byte("name: a\ncount: 3\n"), &d)
	if err != nil || len(probs) > 0 || root == nil || d != (doc{Name: "a", Count: 3}) {
		t.Fatalf("good file: %v %v %+v", err, probs, d)
	}
}

// TestBrokenSchemaIsNotTheFilesFault: a schema that does not compile is an error, not a problem.
func TestBrokenSchemaIsNotTheFilesFault(t *testing.T) {
	f := format()
	f.Schema = []byte(`{"type": 3}`)
	if _, probs, err := f.Decode("f.yaml", []byte("name: a\n"), &doc{}); err == nil || len(probs) > 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
}

type own Problem

func (p *own) Error() string { return "own: " + (*Problem)(p).Error() }

// TestLocateCapsInLineOrder: the first MaxReported by line are kept, the rest counted, and
// Join makes each the caller's type.
func TestLocateCapsInLineOrder(t *testing.T) {
	var probs []*Problem
	for i := 60; i > 0; i-- {
		probs = append(probs, &Problem{Line: i, Msg: fmt.Sprint(i)})
	}
	located := Locate("f.yaml", nil, probs)
	if len(located) != 51 || located[0].Line != 1 || located[49].Line != 50 || located[50].Msg != "and 10 more mistakes" {
		t.Fatalf("got %d problems, first %+v, last %+v", len(located), located[0], located[len(located)-1])
	}
	err := Join(located, func(p *Problem) error { return (*own)(p) })
	var o *own
	if !errors.As(err, &o) || !strings.HasPrefix(err.Error(), "own: f.yaml:1: 1\n") {
		t.Fatalf("joined %v", err)
	}
}
