package autoscale

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	p := Policy{Min: 1, Max: 3, ScaleOutAfter: 2 * time.Second, ScaleInAfter: 10 * time.Second, Cooldown: time.Second}
	busy := func(s float64, workers int) Observation {
		return Observation{At: at(s), Workers: workers, Waiting: 2, Running: 2, Capacity: 2 * workers}
	}
	idle := func(s float64, workers int) Observation {
		return Observation{At: at(s), Workers: workers, Capacity: 2 * workers}
	}
	steady := func(s float64, workers int) Observation { // running, nothing waits
		return Observation{At: at(s), Workers: workers, Running: 1, Capacity: 2 * workers}
	}
	full := func(s float64, workers int) Observation { // every slot runs, nothing waits this instant
		return Observation{At: at(s), Workers: workers, Running: 2 * workers, Capacity: 2 * workers}
	}
	unknown := func(o Observation) Observation { o.Unobserved = 1; return o }
	for _, tc := range []struct {
		name  string
		steps []Observation
		want  []Action
	}{
		{"pressure shorter than scale_out_after holds", []Observation{busy(0, 1), busy(1.9, 1)}, []Action{Hold, Hold}},
		{"persisted pressure scales out once", []Observation{busy(0, 1), busy(1, 1), busy(2, 1), busy(2.5, 2)}, []Action{Hold, Hold, ScaleOut, Hold}},
		{"a worker without a health report breaks a run of pressure", []Observation{busy(0, 1), unknown(busy(1, 1)), busy(1.5, 1), busy(3, 1), busy(3.5, 1)}, []Action{Hold, Hold, Hold, Hold, ScaleOut}},
		{"a worker without a health report is not idle", []Observation{idle(0, 3), unknown(idle(9, 3)), idle(10, 3)}, []Action{Hold, Hold, Hold}},
		{"a gap in pressure restarts the clock", []Observation{busy(0, 1), steady(1, 1), busy(1.5, 1), busy(3, 1), busy(3.5, 1)}, []Action{Hold, Hold, Hold, Hold, ScaleOut}},
		{"full slots with nothing waiting keep a run of pressure", []Observation{busy(0, 1), full(0.75, 1), busy(1.5, 1), full(2, 1)}, []Action{Hold, Hold, Hold, ScaleOut}},
		{"full slots alone start no run of pressure", []Observation{full(0, 1), full(1, 1), full(2, 1), full(3, 1)}, []Action{Hold, Hold, Hold, Hold}},
		{"a slot free after pressure restarts the clock", []Observation{busy(0, 1), full(1, 1), steady(1.5, 1), busy(2, 1), full(3, 1), busy(3.5, 1)}, []Action{Hold, Hold, Hold, Hold, Hold, Hold}},
		{"never past max", []Observation{busy(0, 3), busy(5, 3)}, []Action{Hold, Hold}},
		{"cooldown spaces two scale-outs", []Observation{busy(0, 1), busy(2, 1), busy(2.5, 2), busy(4.4, 2), busy(4.6, 2)}, []Action{Hold, ScaleOut, Hold, Hold, ScaleOut}},
		{"idle scales in after scale_in_after", []Observation{idle(0, 3), idle(9, 3), idle(10, 3)}, []Action{Hold, Hold, ScaleIn}},
		{"never below min", []Observation{idle(0, 1), idle(20, 1)}, []Action{Hold, Hold}},
		{"running work is not idle", []Observation{steady(0, 2), steady(30, 2)}, []Action{Hold, Hold}},
		{"a group below min is brought up at once", []Observation{idle(0, 0)}, []Action{ScaleOut}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s State
			for i, o := range tc.steps {
				var d Decision
				d, s = Decide(o, p, s)
				if d.Action != tc.want[i] {
					t.Fatalf("step %d (%+v): %s (%s), want %s", i, o, d.Action, d.Reason, tc.want[i])
				}
				want := o.Workers
				switch d.Action {
				case ScaleOut:
					want = max(o.Workers+1, p.Min)
				case ScaleIn:
					want = o.Workers - 1
				}
				if d.Want != want {
					t.Fatalf("step %d: want %d workers, decision says %d", i, want, d.Want)
				}
				if d.Action != Hold && d.Reason == "" {
					t.Fatalf("step %d: a resize without a reason", i)
				}
			}
		})
	}
}
