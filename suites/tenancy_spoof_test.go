package suites

import "testing"

// TestSpoofTurnsCoverEveryVictimOnEveryTransport: with every caller paced, every victim is named
// over every transport by exactly one caller other than itself, and with as many transports as
// other tenants, every caller names each of its victims over at least one transport.
func TestSpoofTurnsCoverEveryVictimOnEveryTransport(t *testing.T) {
	for tenants := 2; tenants <= 6; tenants++ {
		for vias := 1; vias <= 6; vias++ {
			for v := range tenants {
				named := map[int]int{} // caller -> transports it names v over
				for j := range vias {
					callers := 0
					for c := range tenants {
						if spoofTurn(tenants, c, v, j) {
							callers++
							named[c]++
							if c == v {
								t.Errorf("%d tenants, %d transports: victim %d names itself over %d", tenants, vias, v, j)
							}
						}
					}
					if callers != 1 {
						t.Errorf("%d tenants, %d transports: victim %d is named over transport %d by %d callers, want 1", tenants, vias, v, j, callers)
					}
				}
				if vias >= tenants-1 && len(named) != tenants-1 {
					t.Errorf("%d tenants, %d transports: victim %d is named by %d callers, want all %d others", tenants, vias, v, len(named), tenants-1)
				}
			}
		}
	}
}
