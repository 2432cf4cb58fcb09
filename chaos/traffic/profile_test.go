package traffic

import (
	"errors"
	"testing"
)

func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range Profiles() {
		if n.Name == "" || n.Doc == "" || seen[n.Name] {
			t.Errorf("catalogue entry %q: empty or duplicate name, or no doc", n.Name)
		}
		seen[n.Name] = true
		p, err := Lookup(n.Name, 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Validate(); err != nil || p.Name != n.Name || p.Seed != DefaultSeed {
			t.Errorf("%s: %+v: %v", n.Name, p, err)
		}
		if _, err := Lookup(n.Name, 0); n.RelativeToCapacity != errors.Is(err, ErrNoCapacity) {
			t.Errorf("%s with no capacity: %v", n.Name, err)
		}
	}
	if p, _ := Lookup("overload4x", 100); p.Rate != 400 {
		t.Errorf("overload4x at 100 req/s has rate %g", p.Rate)
	}
	if _, err := Lookup("nope", 1); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("unknown profile: %v", err)
	}
}
