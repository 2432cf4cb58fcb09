package scenario

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
)

// selectorStream keeps the seeded picks of selectors apart from the arrivals and the requests'
// prompts drawn from the same plan seed.
const selectorStream = 0x73656c6563740000 // "select"

// String renders the selector as a plan states it, for messages.
func (s Selector) String() string {
	out := "role " + s.Role
	if s.Name != "" {
		out += " name " + s.Name
	}
	if s.Part != "" {
		out += " part " + s.Part
	}
	return out + " mode " + s.Mode.String()
}

// String renders the mode: all, one, fixed:N or percent:P.
func (m Mode) String() string {
	switch m.Kind {
	case Fixed:
		return fmt.Sprintf("fixed:%d", m.N)
	case Percent:
		return fmt.Sprintf("percent:%g", m.Percent)
	case "":
		return string(All)
	}
	return string(m.Kind)
}

// validate checks the mode's parameters.
func (m Mode) validate() error {
	switch m.Kind {
	case "", All, One:
	case Fixed:
		if m.N < 1 {
			return fmt.Errorf("mode fixed needs n of at least 1, got %d", m.N)
		}
	case Percent:
		if !(m.Percent > 0 && m.Percent <= 100) {
			return fmt.Errorf("mode percent needs percent in (0, 100], got %g", m.Percent)
		}
	default:
		return fmt.Errorf("unknown mode %q (want all, one, fixed or percent)", m.Kind)
	}
	return nil
}

// pick chooses from matches as the mode says, seeded by the plan's seed and the fault's index so a
// run picks the same parts again. The picks keep the order of matches.
func (m Mode) pick(matches []string, seed int64, fault int) ([]string, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	n := len(matches)
	k := n
	switch m.Kind {
	case One:
		k = 1
	case Fixed:
		if m.N > n {
			return nil, fmt.Errorf("mode fixed:%d but only %d match", m.N, n)
		}
		k = m.N
	case Percent:
		k = max(1, int(math.Ceil(m.Percent/100*float64(n))))
	}
	if k >= n {
		return slices.Clone(matches), nil
	}
	// Picks must be reproducible from the seed, not unpredictable: PCG is the right tool.
	rng := rand.New(rand.NewPCG(uint64(seed), selectorStream|uint64(fault))) //nolint:gosec // see above
	chosen := rng.Perm(n)[:k]
	slices.Sort(chosen)
	out := make([]string, k)
	for i, c := range chosen {
		out[i] = matches[c]
	}
	return out, nil
}

// linkTarget is one link a fault goes on.
type linkTarget struct{ name, part string }

func (l linkTarget) String() string {
	if l.part == "" {
		return l.name
	}
	return l.name + "/" + l.part
}

// selectLinks resolves a link fault's selector against the declared links.
func selectLinks(links Links, s Selector, seed int64, idx int) ([]linkTarget, error) {
	var ids []string
	byID := map[string]linkTarget{}
	for _, l := range links.Select(link.Role(s.Role), s.Name) {
		if s.Part != "" && l.Part != s.Part {
			continue
		}
		t := linkTarget{name: l.Name, part: l.Part}
		if _, dup := byID[t.String()]; !dup {
			ids = append(ids, t.String())
			byID[t.String()] = t
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("selector %s: %w", s, fault.ErrNoLink)
	}
	picked, err := s.Mode.pick(ids, seed, idx)
	if err != nil {
		return nil, fmt.Errorf("selector %s: %w", s, err)
	}
	out := make([]linkTarget, len(picked))
	for i, id := range picked {
		out[i] = byID[id]
	}
	return out, nil
}

// selectParts resolves a node fault's selector against the deployment's parts: Name or Part, when
// set, names the part.
func selectParts(nodes fault.Nodes, s Selector, seed int64, idx int) ([]string, error) {
	var parts []string
	for _, p := range nodes.Parts(s.Role) {
		if (s.Name == "" || p == s.Name) && (s.Part == "" || p == s.Part) {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("selector %s: no part of the deployment matches", s)
	}
	picked, err := s.Mode.pick(parts, seed, idx)
	if err != nil {
		return nil, fmt.Errorf("selector %s: %w", s, err)
	}
	return picked, nil
}
