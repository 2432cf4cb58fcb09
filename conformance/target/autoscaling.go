package target

import (
	"fmt"

	"github.com/aruntime/arcert/internal/yamlschema"
)

// MaxAutoscalingLag is the longest lag, in seconds, a record may declare: SCL-1 calibrates
// (about 7 s), steps the load for twice the lag plus 4 s and drains within a 3-minute spec.
const MaxAutoscalingLag = 50

// checkAutoscaling cross-checks feature autoscaling: SCL-1 needs the lag as a number, the model
// it drives, and a declared class when one is named.
func (t *Target) checkAutoscaling() []*yamlschema.Problem {
	var probs []*yamlschema.Problem
	add := func(field, format string, args ...any) {
		probs = append(probs, &yamlschema.Problem{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	a := t.Placement.AutoscalingLag
	if !t.Declares("autoscaling") {
		return nil
	}
	if a.ExpectedSeconds > MaxAutoscalingLag {
		add("placement.autoscaling_lag.expected_seconds", "%g s is longer than SCL-1 can measure: at most %d s, since the step lasts twice the lag plus 4 s within a 3-minute spec", a.ExpectedSeconds, MaxAutoscalingLag)
	}
	if a.ExpectedSeconds <= 0 {
		add("placement.autoscaling_lag.expected_seconds", "feature autoscaling needs the lag as a number: the seconds from a load step past capacity to the first added capacity")
	}
	if a.Model == "" {
		add("placement.autoscaling_lag.model", "feature autoscaling needs the model whose capacity the autoscaler adds")
	}
	if _, ok := t.Class(a.Class); a.Class != "" && !ok {
		add("placement.autoscaling_lag.class", "class %q is not declared under traffic_classes", a.Class)
	}
	return probs
}
