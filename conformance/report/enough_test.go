package report

import "github.com/aruntime/arcert/conformance/catalog"

// enough is what a spec that passed requirement id judged when it probed every path the
// catalogue lists for it, each with the requirement's minimum: the record of a PASS the report
// must keep a PASS.
func enough(id string) map[string]int {
	q, err := catalog.MustLoad().Requirement(id)
	if err != nil {
		panic(err)
	}
	out := map[string]int{}
	for _, p := range q.Paths {
		out[p] = q.Needs()
	}
	if len(q.Paths) == 0 {
		out["any"] = q.Needs()
	}
	return out
}
