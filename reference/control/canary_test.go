package control

import (
	"fmt"
	"testing"
)

func canaryFixture(weight int) (ModelDoc, *RolloutDoc) {
	m := ModelDoc{ArtifactDigest: digestOf("old"), Repo: "r"}
	return m, &RolloutDoc{FromDigest: m.ArtifactDigest, ToDigest: digestOf("new"), Weight: weight, Version: "v2"}
}

// TestCanarySplitFollowsWeight: over many workers the share on the new digest is the weight,
// within five standard deviations of a binomial draw, and 0 and 100 are exact.
func TestCanarySplitFollowsWeight(t *testing.T) {
	const workers = 10000
	for _, weight := range []int{0, 1, 10, 50, 90, 100} {
		m, r := canaryFixture(weight)
		moved := 0
		for i := range workers {
			if DesiredDigest("m", m, r, fmt.Sprintf("worker-%d", i)) == r.ToDigest {
				moved++
			}
		}
		want := workers * weight / 100
		tolerance := 5 * 50 // 5 sd at p=0.5, n=10000, the widest case
		if weight == 0 || weight == 100 {
			tolerance = 0
		}
		if moved < want-tolerance || moved > want+tolerance {
			t.Errorf("weight %d moved %d of %d workers, want %d±%d", weight, moved, workers, want, tolerance)
		}
	}
}

// TestCanaryIsStableAndMonotonic: a worker's choice never changes for the same inputs, and a
// worker on the new digest at one weight stays on it at every higher weight.
func TestCanaryIsStableAndMonotonic(t *testing.T) {
	m, low := canaryFixture(20)
	_, high := canaryFixture(60)
	high.Version = "v3" // editing the rollout's version does not reshuffle workers
	for i := range 2000 {
		w := fmt.Sprintf("w%d", i)
		first := DesiredDigest("m", m, low, w)
		if again := DesiredDigest("m", m, low, w); again != first {
			t.Fatalf("%s: %s then %s", w, first, again)
		}
		if first == low.ToDigest && DesiredDigest("m", m, high, w) != high.ToDigest {
			t.Fatalf("%s left the canary when the weight went up", w)
		}
	}
}

// TestCanaryDependsOnTheModel: the same workers are not the canaries of every model.
func TestCanaryDependsOnTheModel(t *testing.T) {
	m, r := canaryFixture(50)
	differ := 0
	for i := range 200 {
		w := fmt.Sprintf("w%d", i)
		if DesiredDigest("m1", m, r, w) != DesiredDigest("m2", m, r, w) {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("every worker made the same choice for two models")
	}
}

func TestCanaryIgnoresPinnedAndStaleRollouts(t *testing.T) {
	m, r := canaryFixture(100)
	if got := DesiredDigest("m", m, nil, "w"); got != m.ArtifactDigest {
		t.Errorf("no rollout: %s", got)
	}
	if got := DesiredDigest("m", m, r, "w"); got != r.ToDigest {
		t.Errorf("weight 100: %s, want the new digest", got)
	}
	pinned := m
	pinned.Pinned = true
	if got := DesiredDigest("m", pinned, r, "w"); got != m.ArtifactDigest {
		t.Errorf("pinned model moved to %s", got)
	}
	promoted := ModelDoc{ArtifactDigest: digestOf("newer"), Repo: "r"}
	if got := DesiredDigest("m", promoted, r, "w"); got != promoted.ArtifactDigest {
		t.Errorf("stale rollout moved the model to %s", got)
	}
}
