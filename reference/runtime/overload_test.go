package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aruntime/arcert/reference/config"
)

// slowConfig is the dev configuration with one slow worker, so requests stay in flight long
// enough for admission to be seen at work.
func slowConfig(t *testing.T, mutate func(*config.Config)) *config.Config {
	cfg := devConfig(t)
	cfg.Workers = cfg.Workers[:1]
	e := &cfg.Workers[0].Engine
	e.MaxBatch, e.DecodeStepBase, e.DecodeStepPerSeq = 1, 20*time.Millisecond, 0
	if mutate != nil {
		mutate(cfg)
	}
	return cfg
}

// fire sends n requests at once and returns the responses' outcomes.
func fire(t *testing.T, rt *Runtime, key string, n int, body map[string]any) []response {
	t.Helper()
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = post(t, rt, "/v1/chat/completions", key, body, nil)
		}()
	}
	wg.Wait()
	return out
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(rs []response, class, reason string) int {
	n := 0
	for _, r := range rs {
		if r.header.Get("ARuntime-Outcome") == class && r.header.Get("ARuntime-Outcome-Reason") == reason {
			n++
		}
	}
	return n
}

// TestQueueFullIsShedAtOnce: beyond one running request and a queue of two, the rest is shed with
// Retry-After, and the queued ones still complete.
func TestQueueFullIsShedAtOnce(t *testing.T) {
	rt := start(t, slowConfig(t, func(c *config.Config) { c.TrafficClasses[0].QueueCapacity = 2 }))
	rs := fire(t, rt, acmeKey, 10, chat("hello", 3))
	completed, shed := count(rs, "completed", "none"), count(rs, "shed", "queue_full")
	if completed+shed != 10 || shed == 0 || completed < 3 {
		t.Fatalf("completed %d, shed %d of 10", completed, shed)
	}
	for _, r := range rs {
		if r.header.Get("ARuntime-Outcome") == "shed" && (r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "") {
			t.Fatalf("shed response %d without Retry-After: %v", r.status, r.header)
		}
	}
}

// TestQuotaIsRejectedNotShed: a tenant over its requests-per-minute gets rejected/quota_exceeded,
// while the other tenant is unaffected.
func TestQuotaIsRejectedNotShed(t *testing.T) {
	cfg := devConfig(t)
	cfg.Tenants[0].Quota.RequestsPerMinute = 60 // one a second, with a burst of one
	rt := start(t, cfg)
	first := post(t, rt, "/v1/chat/completions", acmeKey, chat("one", 1), nil)
	expectOutcome(t, first, http.StatusOK, "completed", "none")
	second := post(t, rt, "/v1/chat/completions", acmeKey, chat("two", 1), nil)
	expectOutcome(t, second, http.StatusTooManyRequests, "rejected", "quota_exceeded")
	if second.header.Get("Retry-After") == "" {
		t.Fatal("quota refusal without Retry-After")
	}
	expectOutcome(t, post(t, rt, "/v1/chat/completions", globexKey, chat("three", 1), nil), http.StatusOK, "completed", "none")
}

// TestConcurrencyLimit: a tenant with its declared requests in flight is refused the next one.
func TestConcurrencyLimit(t *testing.T) {
	rt := start(t, slowConfig(t, func(c *config.Config) { c.Tenants[0].Quota.MaxConcurrency = 1 }))
	rs := fire(t, rt, acmeKey, 4, chat("hello", 5))
	if n := count(rs, "rejected", "concurrency_exceeded"); n == 0 || count(rs, "completed", "none") == 0 {
		t.Fatalf("outcomes: %d completed, %d concurrency_exceeded", count(rs, "completed", "none"), n)
	}
}

// TestDeadlineIsTimedOut: work that cannot finish within its class's deadline ends timed_out.
func TestDeadlineIsTimedOut(t *testing.T) {
	rt := start(t, slowConfig(t, func(c *config.Config) { c.TrafficClasses[0].Deadline = 100 * time.Millisecond }))
	r := post(t, rt, "/v1/chat/completions", acmeKey, chat("a long answer please", 50), nil)
	expectOutcome(t, r, http.StatusGatewayTimeout, "timed_out", "deadline")
}

// TestDrainShedsNewWorkAndFinishesRunning: during shutdown, a running stream completes while a
// new request is shed with reason draining.
func TestDrainShedsNewWorkAndFinishesRunning(t *testing.T) {
	cfg := slowConfig(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := Start(ctx, cfg, Options{Router: true, Workers: []string{cfg.Workers[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	body := chat("stream for a while", 50)
	body["stream"] = true
	req, _ := http.NewRequest(http.MethodPost, "http://"+rt.Topology().HTTP+"/v1/chat/completions", strings.NewReader(string(mustMarshal(t, body))))
	req.Header.Set("Authorization", "Bearer "+acmeKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() { // the first token is out: the request is running
		t.Fatal("no first event")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Shutdown(ctx) }()
	// The stream holds the only slot, so this request is either refused by the draining router or
	// waits in the queue until the drain sheds it: draining either way.
	during := post(t, rt, "/v1/chat/completions", globexKey, chat("hi", 1), nil)
	expectOutcome(t, during, http.StatusServiceUnavailable, "shed", "draining")
	var rest strings.Builder
	for sc.Scan() {
		rest.WriteString(sc.Text())
	}
	if !strings.Contains(rest.String(), `"class":"completed"`) || !strings.Contains(rest.String(), "[DONE]") {
		t.Fatalf("running stream did not complete during drain: %s", rest.String())
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// TestDrainNoticeKeepsAnsweringWithNothingInFlight: with router.drain_notice set, a router that has
// nothing running still answers for the notice (shed draining with Retry-After, /healthz 503)
// before it closes its listeners, so a load balancer polling readiness never meets a refused
// connection; without the notice it would close at once.
func TestDrainNoticeKeepsAnsweringWithNothingInFlight(t *testing.T) {
	const notice = 600 * time.Millisecond
	cfg := slowConfig(t, func(c *config.Config) { c.Router.DrainNotice = notice })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rt, err := Start(ctx, cfg, Options{Router: true, Workers: []string{cfg.Workers[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- rt.Shutdown(ctx) }()
	// Until the drain has begun the request may still be served; poll for the first shed.
	var during response
	for time.Since(began) < notice/2 {
		during = post(t, rt, "/v1/chat/completions", globexKey, chat("hi", 1), nil)
		if during.status == http.StatusServiceUnavailable {
			break
		}
	}
	expectOutcome(t, during, http.StatusServiceUnavailable, "shed", "draining")
	if during.header.Get("Retry-After") == "" {
		t.Fatal("a request shed while draining carries no Retry-After")
	}
	expectOutcome(t, get(t, rt, "/healthz", ""), http.StatusServiceUnavailable, "shed", "draining")
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < notice {
		t.Fatalf("shutdown with nothing in flight took %s, less than the drain notice %s", took, notice)
	}
}
