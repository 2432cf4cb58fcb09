package suites

import (
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"

	"github.com/aruntime/arcert/conformance/grpcdriver"
)

var _ = Describe("gRPC", func() {
	// The refusals under load are judged with the HTTP ones (refusals.go); this spec covers what
	// is served, streamed for every tenant in every class it may use, and the unary call.
	It("states the outcome in trailers on served streams and on unary calls, served and refused", Req("OUT-9"), func(ctx SpecContext) {
		if env.GRPC == nil {
			Fail("the target declares the grpc feature without a gRPC endpoint")
		}
		var problems []string
		n := 0
		for _, t := range env.Target.Tenants {
			for i, k := range env.Target.TrafficClasses {
				if !slices.Contains(t.TrafficClasses, k.Name) {
					continue
				}
				s := callServed(ctx, outcomeCall{what: "a stream in class " + k.Name + " as " + t.Name, tenant: t, transport: pathGRPC, class: k.Name,
					body: probe(prompt(rng(53+uint64(i)), 5), 4, false)}, patience(k.Deadline))
				n++
				ok, why := contractStatus(s)
				switch {
				case s.trouble() != "":
					problems = append(problems, s.trouble())
				case !s.class.Served():
					problems = append(problems, "not served: "+s.String())
				case !ok:
					problems = append(problems, why)
				case s.tokens == 0:
					problems = append(problems, "no token arrived: "+s.String())
				default:
					judged(fmt.Sprintf("served:%s:%s", t.Name, k.Name), 1)
				}
			}
		}
		unary := []struct{ what, key string }{
			{"ListModels as " + tenantA().Name, tenantA().Key},
			{"ListModels with an unknown credential", "arcert-not-a-key"},
		}
		for _, u := range unary {
			res, err := env.GRPC.ListModels(ctx, u.key)
			s := grpcSample(u.what, tenantA().Name, res.Result, err)
			n++
			ok, why := contractStatus(s)
			switch {
			case s.trouble() != "":
				problems = append(problems, s.trouble())
			case !ok:
				problems = append(problems, why)
			case s.class.Served() != (u.key == tenantA().Key):
				problems = append(problems, "the wrong outcome: "+s.String())
			case s.class.Served() && !listsModel(res):
				problems = append(problems, fmt.Sprintf("%s does not list the model %s", u.what, model().Name))
			default:
				judged("unary:"+string(s.class), 1)
			}
		}
		failOn(problems, fmt.Sprintf("%d of %d gRPC calls did not end as the contract says", len(problems), n))
	}, SpecTimeout(specTimeout))
})

func listsModel(res grpcdriver.UnaryResult) bool { return slices.Contains(res.Models, model().Name) }
