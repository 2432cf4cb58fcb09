package config

import "fmt"

// validateOperators refuses an operator without a valid name, one whose name another operator
// already has, and (through claim) one whose key another identity uses: a protected pin counts
// approvals by operator name, so two operators of one name would be one approver.
func (c *Config) validateOperators(v *validator, claim func(field, key string)) {
	names := map[string]string{}
	for i, o := range c.Operators {
		f := fmt.Sprintf("operators[%d]", i)
		v.name(f+".name", o.Name)
		if prev, dup := names[o.Name]; dup {
			v.add(f+".name", "operator %q is already declared at %s; each operator needs its own name, or a protected pin's approvals could not tell them apart", o.Name, prev)
		} else {
			names[o.Name] = f
		}
		claim(f+".key", o.Key)
		for j, k := range o.MoreKeys {
			claim(fmt.Sprintf("%s.more_keys[%d]", f, j), k)
		}
	}
}

// validateProtectedPins refuses a protected pin that is not a digest, is listed twice, or asks
// for more approvals than there are operators to give them (a rollout no one could release).
func (c *Config) validateProtectedPins(v *validator, f string, m Model) {
	seen := map[string]bool{}
	for j, p := range m.ProtectedPins {
		pf := fmt.Sprintf("%s.protected_pins[%d]", f, j)
		if !digestPattern.MatchString(p.Digest) {
			v.add(pf+".digest", "%q is not a pinned digest (sha256: and 64 hex digits)", p.Digest)
		}
		if seen[p.Digest] {
			v.add(pf+".digest", "%q is listed twice", p.Digest)
		}
		seen[p.Digest] = true
		switch {
		case p.Approvals < 1:
			v.add(pf+".approvals", "%d must be at least 1", p.Approvals)
		case p.Approvals > len(c.Operators):
			v.add(pf+".approvals", "%d approvals, but only %d operators are declared, so no rollout to it could be approved", p.Approvals, len(c.Operators))
		}
	}
}
