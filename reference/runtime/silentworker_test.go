package runtime

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/internal/testrelay"
)

// TestSilentRegionReleasesItsCalls is spec FBK-4's region network cut: eu-west's workers stop
// answering without a reset while acme streams from one and globex's request waits for its first
// token on one. Once the health checker declares them down (three unanswered polls, about 1.5 s),
// the router cuts their calls as a reset would: globex's, which sent nothing yet, is rerouted to
// us-east; acme's stream, which had sent output, ends failed/worker_lost. Both end long before
// their class deadline (raised to 30 s here, so a hung call cannot pass by ending at it), and no
// admission slot stays held. Without the cut, both calls hang until that deadline.
func TestSilentRegionReleasesItsCalls(t *testing.T) {
	const deadline, within = 30 * time.Second, 6 * time.Second
	cfg := devConfig(t)
	for i := range cfg.TrafficClasses {
		cfg.TrafficClasses[i].Deadline = deadline
	}
	for i := range cfg.Workers[:2] { // eu-west decodes slowly: acme's stream is still going when cut
		cfg.Workers[i].Engine.DecodeStepBase = 50 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	workers, err := Start(ctx, cfg, Options{Workers: workerIDs(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = workers.Shutdown(context.Background()) })
	links := map[string]*testrelay.Relay{}
	for i, w := range cfg.Workers {
		links[w.ID] = testrelay.New(t, workers.Topology().Workers[w.ID])
		cfg.Workers[i].Address = links[w.ID].Addr()
	}
	rt, err := Start(ctx, cfg, Options{Router: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Shutdown(context.Background()) })

	// acme's stream is flowing from eu-west.
	body := chat("a long story", 200)
	body["stream"] = true
	sctx, scancel := context.WithTimeout(ctx, within+5*time.Second) // a hung stream fails the test, not the run
	defer scancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions", strings.NewReader(string(mustMarshal(t, body))))
	req.Header.Set("Authorization", "Bearer "+acmeKey)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stream.Body.Close() }()
	if _, err := io.ReadFull(stream.Body, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}

	links["worker-a"].Mute()
	links["worker-b"].Mute()
	cut := time.Now()
	// globex asks at once, before the cut is noticed: its request goes to eu-west and gets no answer.
	rerouted := make(chan response, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions",
			strings.NewReader(string(mustMarshal(t, chat("where is this served?", 3)))))
		req.Header.Set("Authorization", "Bearer "+globexKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			rerouted <- response{body: []byte(err.Error())}
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		rerouted <- response{status: resp.StatusCode, header: resp.Header, body: b}
	}()

	rest, _ := io.ReadAll(stream.Body) // the error event, or a read cut by sctx without the fix
	if took := time.Since(cut); took > within || !strings.Contains(string(rest), `"reason":"worker_lost"`) ||
		stream.Trailer.Get(outcome.HeaderOutcome) != "failed" || stream.Trailer.Get(outcome.HeaderReason) != "worker_lost" {
		t.Fatalf("acme's stream ended %v after its region went silent with trailer %v, want failed/worker_lost within %v: %s",
			took.Round(time.Millisecond), stream.Trailer, within, rest)
	}
	t.Logf("acme's stream ended %v after the cut", time.Since(cut).Round(time.Millisecond))
	select {
	case r := <-rerouted:
		expectOutcome(t, r, http.StatusOK, "rerouted", "region_failover")
		if sb := servedBy(t, r); sb.Worker != "worker-c" {
			t.Fatalf("globex's request was served by %v, want worker-c in us-east", sb)
		}
		if took := time.Since(cut); took > within {
			t.Fatalf("globex's request was rerouted %v after its region went silent, want within %v", took.Round(time.Millisecond), within)
		}
	case <-time.After(within + time.Second):
		t.Fatalf("globex's request sent to a silent region is still waiting %v after the cut", time.Since(cut).Round(time.Millisecond))
	}
	// Both ended, so neither holds a slot; the runtime's own count says so.
	if m := string(get(t, rt, "/metrics", "").body); !strings.Contains(m, "\naruntime_in_flight 0\n") {
		t.Fatalf("admission slots still held after the calls to the silent region ended:\n%s", grepLines(m, "aruntime_in_flight"))
	}
	t.Logf("both calls to the silent region ended within %v", time.Since(cut).Round(time.Millisecond))
	// acme may be served in eu-west only, which is down.
	expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, chat("anyone there?", 1), nil), http.StatusForbidden, "rejected", "policy_forbids_fallback")
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
