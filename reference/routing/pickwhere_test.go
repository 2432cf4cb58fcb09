package routing

import (
	"errors"
	"testing"
)

// regionalPool is an offline pool of two workers in eu-west and two in us-east, all serving m and
// all healthy, for PickWhere and ServesWhere.
func regionalPool(t *testing.T) *Pool {
	t.Helper()
	var eps []Endpoint
	for _, e := range []struct{ id, region string }{{"eu-1", "eu-west"}, {"eu-2", "eu-west"}, {"us-1", "us-east"}, {"us-2", "us-east"}} {
		eps = append(eps, Endpoint{ID: e.id, Address: "127.0.0.1:1", Region: e.region, Pool: "gpu", Models: []string{"m"}})
	}
	p, err := New(Options{Endpoints: eps, Token: testToken, AffinitySlack: 2, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	for _, w := range p.Workers() {
		setHealthy(w, true)
	}
	return p
}

func inRegion(region string) func(*Worker) bool {
	return func(w *Worker) bool { return w.Region == region }
}

// TestPickWhereStaysInThePlace: whatever the load and affinity, a filtered pick never leaves the
// accepted workers, and it fails rather than spill over when none of them is healthy.
func TestPickWhereStaysInThePlace(t *testing.T) {
	p := regionalPool(t)
	byID := map[string]*Worker{}
	for _, w := range p.Workers() {
		byID[w.ID] = w
	}
	// Six picks in eu-west while us-east stays idle: an unfiltered pick would have moved there.
	for range 6 {
		l, err := p.PickWhere("m", 0, inRegion("eu-west"))
		if err != nil {
			t.Fatal(err)
		}
		if l.Worker.Region != "eu-west" {
			t.Fatalf("picked %s in %s, want eu-west", l.Worker.ID, l.Worker.Region)
		}
	}
	if byID["eu-1"].Outstanding() != 3 || byID["eu-2"].Outstanding() != 3 {
		t.Errorf("eu-west outstanding %d and %d, want 3 and 3: load still spreads inside the place", byID["eu-1"].Outstanding(), byID["eu-2"].Outstanding())
	}
	for i := range 50 {
		key := AffinityKey("t", string(rune('a'+i)))
		l, err := p.PickWhere("m", key, inRegion("eu-west"))
		if err != nil || l.Worker.Region != "eu-west" {
			t.Fatalf("affine pick %v, %v; want an eu-west worker", l, err)
		}
		l.Done()
	}

	byID["eu-1"].MarkUnhealthy(errInjected)
	byID["eu-2"].MarkUnhealthy(errInjected)
	if _, err := p.PickWhere("m", 0, inRegion("eu-west")); !errors.Is(err, ErrNoWorker) {
		t.Fatalf("PickWhere with the place down = %v, want ErrNoWorker", err)
	}
	if p.ServesWhere("m", inRegion("eu-west")) || !p.ServesWhere("m", inRegion("us-east")) || !p.Serves("m") {
		t.Fatal("ServesWhere disagrees with the workers' health")
	}
	if l, err := p.Pick("m", 0); err != nil || l.Worker.Region != "us-east" {
		t.Fatalf("unfiltered Pick = %v, %v; want us-east", l, err)
	}
	if _, err := p.PickWhere("other", 0, nil); !errors.Is(err, ErrUnknownModel) {
		t.Fatalf("PickWhere of an unserved model = %v, want ErrUnknownModel", err)
	}
}
