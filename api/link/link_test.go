package link

import "testing"

// TestRolesAreValidAndDistinct: every listed role is valid, none twice, and a name outside the
// list (a node role such as worker) is not.
func TestRolesAreValidAndDistinct(t *testing.T) {
	seen := map[Role]bool{}
	for _, r := range Roles() {
		if !r.Valid() || seen[r] {
			t.Fatalf("role %q: valid=%v, listed twice=%v", r, r.Valid(), seen[r])
		}
		seen[r] = true
	}
	if len(seen) != 8 {
		t.Fatalf("want 8 roles, got %d", len(seen))
	}
	if Role("worker").Valid() {
		t.Fatal(`"worker" is a node role, not a link role`)
	}
	Roles()[0] = "mutated"
	if Roles()[0] != RoleProvider {
		t.Fatal("Roles returns the package's own slice")
	}
}
