package suites

import "testing"

// TestNextVictimFollowsTheStreams: after a loss that cut no stream, the next worker lost is one
// the streams said served them (untried, and behind a declared part), else the next untried part;
// with every part tried there is none.
func TestNextVictimFollowsTheStreams(t *testing.T) {
	parts := []string{"worker-a", "worker-b", "worker-c"}
	ran := func(workers ...string) []streamEnd {
		ends := make([]streamEnd, len(workers))
		for i, w := range workers {
			ends[i].worker = w
		}
		return ends
	}
	cases := []struct {
		name  string
		ends  []streamEnd
		tried []string
		want  string
	}{
		{"the streams name where they ran", ran("worker-c", "worker-c", "worker-b"), []string{"worker-a"}, "worker-c"},
		{"a tried worker is not lost again", ran("worker-a", "worker-b"), []string{"worker-a"}, "worker-b"},
		{"an undeclared worker is not a part to lose", ran("worker-x"), []string{"worker-a"}, "worker-b"},
		{"the runtime names no worker", ran("", ""), []string{"worker-a"}, "worker-b"},
		{"every part tried", ran("worker-b"), parts, ""},
	}
	for _, tc := range cases {
		if got := nextVictim(tc.ends, parts, tc.tried); got != tc.want {
			t.Errorf("%s: next victim %q, want %q", tc.name, got, tc.want)
		}
	}
}
