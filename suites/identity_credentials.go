package suites

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/chaos/fault"
	"github.com/aruntime/arcert/conformance/target"
)

// credentialProbes is how many requests ID-5 sends per hosted tenant on each transport once the
// provider is reached: each is one sample, found again in the provider's record by its canary.
const credentialProbes = 2

// credentialFingerprint is how an observable provider names a credential it received (the
// stand-in's Fingerprint: the first 16 hex digits of its SHA-256), so keys never travel back.
func credentialFingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// identityCanary is a seeded canary token in the form observable providers look for.
func identityCanary(r *rand.Rand) string {
	var b [8]byte
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return "arcert-canary-" + hex.EncodeToString(b[:])
}

// knownCredentials maps the fingerprint of every credential the target declares, except the
// provider's own, to whose it is.
func knownCredentials() map[string]string {
	out := map[string]string{}
	for _, t := range env.Target.Tenants {
		out[credentialFingerprint(t.Key)] = "tenant " + t.Name + "'s key"
	}
	if cc := env.Target.Confidential; cc != nil {
		for _, t := range cc.Tenants { // declared apart, but as much a tenant's secret
			out[credentialFingerprint(t.Key)] = "confidential tenant " + t.Name + "'s key"
		}
	}
	if op := env.Target.Operator; op != nil {
		out[credentialFingerprint(op.Key)] = "the operator's key"
	}
	if wl := env.Target.Workload; wl != nil {
		out[credentialFingerprint(wl.Key)] = "the workload credential"
	}
	return out
}

// hostedPath is one transport a hosted request is sent on, with the canary it carries.
type hostedPath struct{ path, tenant string }

var _ = Describe("Credentials beyond the router: workers, and the provider with every region down", Serial, Label("fault:region"), func() {
	It("never lets a tenant's credential reach a worker or the hosted provider", Req("ID-5"), func(ctx SpecContext) {
		DeferCleanup(noResidue)
		dep, ok := providerDependency()
		if !ok || dep.Observe == "" {
			inconclusive("the target declares no observable provider (a provider dependency with observe), so what reached it cannot be read")
			return
		}
		var hosted []target.Tenant
		for _, t := range env.Target.Tenants {
			if t.DataPolicy.HostedFallback {
				hosted = append(hosted, t)
			}
		}
		if len(hosted) == 0 || !needLinks(link.RoleRegion, "") {
			inconclusive("the target declares no tenant allowed hosted fallback, or no region link to cut")
			return
		}
		awaitSteady(ctx)
		workerLeaks, stop := credentialsAtWorkers(ctx)
		if stop {
			return
		}
		r := rng(501)
		sent := map[string]hostedPath{}
		heal := identityCutRegions()
		// The positive control: the provider's own record shows a request of the first hosted
		// tenant once the runtime has noticed the outage, whether or not the provider served it.
		Eventually(func() bool {
			c := identityCanary(r)
			sent[c] = hostedPath{path: "http", tenant: hosted[0].Name}
			send(ctx, hosted[0].Key, probe("reach the provider "+c, 2, false), nil)
			return slices.Contains(providerCanaries(ctx, dep), c)
		}).WithContext(ctx).WithTimeout(detection()+recoveryTime()).WithPolling(100*time.Millisecond).
			Should(BeTrue(), "no request of %s reached the provider with every region down", hosted[0].Name)
		for _, t := range hosted {
			for range credentialProbes {
				for _, path := range []string{"http", "http-stream", "grpc"} {
					c := identityCanary(r)
					sent[c] = hostedPath{path: path, tenant: t.Name}
					hostedRequest(ctx, t, path, "what reaches the provider "+c)
				}
			}
		}
		Expect(heal()).To(Succeed())
		known := knownCredentials()
		leaks := map[string]int{}
		reached := map[hostedPath]int{}
		for _, rec := range providerRecords(ctx, dep) {
			for _, fp := range append([]string{rec.Credential}, rec.HeaderCredentials...) {
				if who, ok := known[fp]; ok {
					leaks[fmt.Sprintf("requests to %s labelled %q carried %s in a header", rec.Path, rec.Tenant, who)]++
				}
			}
			if who, ok := known[credentialFingerprint(rec.User)]; ok && rec.User != "" {
				leaks[fmt.Sprintf("requests to %s carried %s as their user", rec.Path, who)]++
			}
			for _, c := range rec.Canaries {
				if hp, ok := sent[c]; ok {
					reached[hp]++
				}
			}
		}
		var found []string
		for _, what := range slices.Sorted(maps.Keys(leaks)) {
			found = append(found, fmt.Sprintf("%d %s", leaks[what], what))
		}
		failOnAny("a credential other than the runtime's own reached a worker or the hosted provider", append(workerLeaks, found...))
		total := 0
		for hp, n := range reached {
			total += n
			judged(hp.path, n)
			judged("tenant:"+hp.tenant, n)
		}
		if env.GRPC == nil {
			notProbed("grpc", "the target declares no gRPC endpoint")
		}
		awaitSteady(ctx)
		evidence("with every region down, %d of %d requests reached provider %s, none carrying a tenant's, the operator's or the workload credential", total, len(sent), dep.Name)
	})
})

// identityCutRegions takes every region link down and returns what heals them all.
func identityCutRegions() func() error {
	var heals []func() error
	for _, r := range env.Target.Regions {
		if len(env.Chaos.Select(link.RoleRegion, r.Name)) > 0 {
			heals = append(heals, inject(link.RoleRegion, r.Name, fault.Fault{Kind: fault.Down}))
		}
	}
	return func() error {
		var errs []string
		for _, h := range heals {
			if err := h(); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("healing the regions: %s", strings.Join(errs, "; "))
		}
		return nil
	}
}

// hostedRequest sends one request of t carrying content on path; its outcome is not judged here
// (FBK-3 does that), only what reached the provider.
func hostedRequest(ctx context.Context, t target.Tenant, path, content string) {
	switch path {
	case "grpc":
		if env.GRPC == nil {
			return
		}
		_, err := env.GRPC.Complete(ctx, t.Key, &arcertv1.CompleteRequest{Model: model().Name, MaxTokens: 2,
			Messages: []*arcertv1.ChatMessage{{Role: "user", Content: content}}})
		Expect(err).NotTo(HaveOccurred())
	default:
		send(ctx, t.Key, probe(content, 2, path == "http-stream"), nil)
	}
}

// providerRecord is what ID-5 reads of one request an observable provider received.
type providerRecord struct {
	Path       string `json:"path"`
	Tenant     string `json:"tenant"`
	Credential string `json:"credential"`
	// HeaderCredentials fingerprint every header value (a bearer value without its scheme).
	HeaderCredentials []string `json:"header_credentials"`
	User              string   `json:"user"`
	Canaries          []string `json:"canaries"`
}

// providerRecords reads the provider's own record of every request that reached it.
func providerRecords(ctx context.Context, p target.Dependency) []providerRecord {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Observe, nil)
	Expect(err).NotTo(HaveOccurred(), "observe URL %q", p.Observe)
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred(), "GET %s", p.Observe)
	defer func() { _ = resp.Body.Close() }()
	Expect(resp.StatusCode).To(Equal(http.StatusOK), "GET %s", p.Observe)
	var seen struct {
		Records []providerRecord `json:"records"`
	}
	Expect(json.NewDecoder(resp.Body).Decode(&seen)).To(Succeed(), "GET %s", p.Observe)
	return seen.Records
}

// providerCanaries are every canary the provider's record shows.
func providerCanaries(ctx context.Context, p target.Dependency) []string {
	var out []string
	for _, r := range providerRecords(ctx, p) {
		out = append(out, r.Canaries...)
	}
	return out
}
