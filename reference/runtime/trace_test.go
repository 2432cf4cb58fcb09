package runtime

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The caller's W3C context: its trace and the span it sends the request from.
const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan  = "00f067aa0ba902b7"
)

// generate is the worker call's span name (otelgrpc names spans by method).
const generate = "arcert.v1.Worker/Generate"

// traceWait bounds waiting for the evidence service to chain a record (and so end its span).
const traceWait = 10 * time.Second

// TestOneTraceAcrossRouterWorkerAndEvidence: one streamed request with a traceparent produces
// spans in the router, the worker (over gRPC) and the evidence service (over NATS), all in the
// caller's trace and each under the span that caused it; the response's traceresponse names the
// router's span; an all-zero traceparent is refused and starts a trace of its own.
func TestOneTraceAcrossRouterWorkerAndEvidence(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	cfg := devConfig(t)
	rt := startDurable(t, cfg, 30*time.Second)

	body := chat("trace me", 4)
	body["stream"] = true
	r := post(t, rt, "/v1/chat/completions", acmeKey, body, map[string]string{"traceparent": "00-" + callerTrace + "-" + callerSpan + "-01"})
	expectOutcome(t, r, http.StatusOK, "completed", "none")
	id := r.header.Get("X-Request-Id")

	tr := strings.Split(r.header.Get("traceresponse"), "-")
	if len(tr) != 4 || tr[1] != callerTrace || tr[2] == callerSpan || tr[3] != "01" {
		t.Fatalf("traceresponse %q: want 00-%s-<the router's span>-01", r.header.Get("traceresponse"), callerTrace)
	}
	// The router's evidence.append ends when the evidence service acknowledged the record, after
	// the response (the record is written off the request), and may be exported after the
	// service's evidence.record; the request's span ends as its handler returns, also after the
	// response. All three are waited for.
	spans := waitForSpan(t, exp, callerTrace, "evidence.record", "evidence.append", "aruntime.request")
	// The router's client span and the worker's server span of the gRPC call share the method's
	// name; they are told apart by kind.
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		switch {
		case s.Name == generate && s.SpanKind == trace.SpanKindClient:
			byName["client "+generate] = s
		case s.Name == generate:
			byName["server "+generate] = s
		default:
			byName[s.Name] = s
		}
	}
	request := must(t, byName, "aruntime.request")
	if request.Parent.SpanID().String() != callerSpan || !request.Parent.IsRemote() {
		t.Errorf("aruntime.request's parent is %v, want the caller's span %s", request.Parent.SpanID(), callerSpan)
	}
	if request.SpanContext.SpanID().String() != tr[2] {
		t.Errorf("traceresponse names span %s, the request's span is %s", tr[2], request.SpanContext.SpanID())
	}
	for _, want := range []struct{ child, parent string }{
		{"aruntime.admission", "aruntime.request"},
		{"aruntime.queue_wait", "aruntime.admission"},
		{"aruntime.route", "aruntime.request"},
		{"client " + generate, "aruntime.route"},
		{"server " + generate, "client " + generate},
		{"worker.prefill", "server " + generate},
		{"worker.decode", "server " + generate},
		{"evidence.append", "aruntime.request"},
		{"evidence.record", "evidence.append"},
	} {
		child, parent := must(t, byName, want.child), must(t, byName, want.parent)
		if !hasParent(child, []tracetest.SpanStub{parent}) {
			t.Errorf("%s's parent is span %s, want a %s span", want.child, child.Parent.SpanID(), want.parent)
		}
	}
	if got := attr(request, "aruntime.tenant"); got != "acme" {
		t.Errorf("aruntime.request tenant %q, want acme", got)
	}
	if got := attr(request, "aruntime.outcome"); got != "completed" {
		t.Errorf("aruntime.request outcome %q, want completed", got)
	}
	if got := attr(byName["evidence.record"], "aruntime.request_id"); got != id {
		t.Errorf("evidence.record request id %q, want %q", got, id)
	}
	if recs := awaitEvidence(t, rt, acmeKey, id); len(recs) != 1 || recs[0].TraceID != callerTrace {
		t.Errorf("evidence %+v: want one record in trace %s", recs, callerTrace)
	}

	// Invalid trace contexts (W3C): the request starts its own trace, and evidence never stores
	// the caller's invalid ids.
	for _, bad := range []string{
		"00-" + strings.Repeat("0", 32) + "-" + callerSpan + "-01",      // all-zero trace id
		"00-" + callerTrace + "-" + strings.Repeat("0", 16) + "-01",     // all-zero span id
		"00-" + callerTrace + "-" + callerSpan,                          // malformed: no flags
		"00-" + strings.ToUpper(callerTrace) + "-" + callerSpan + "-01", // malformed: upper case
	} {
		r := post(t, rt, "/v1/chat/completions", acmeKey, chat("bad context", 2), map[string]string{"traceparent": bad})
		expectOutcome(t, r, http.StatusOK, "completed", "none")
		got := strings.Split(r.header.Get("traceresponse"), "-")
		if len(got) != 4 || len(got[1]) != 32 || got[1] == strings.Repeat("0", 32) || got[1] == callerTrace {
			t.Errorf("traceparent %q: traceresponse %q, want a trace of the request's own", bad, r.header.Get("traceresponse"))
			continue
		}
		waitForSpan(t, exp, got[1], "evidence.record")
		if recs := awaitEvidence(t, rt, acmeKey, r.header.Get("X-Request-Id")); len(recs) != 1 || recs[0].TraceID != got[1] {
			t.Errorf("traceparent %q: evidence %+v, want one record in the new trace %s", bad, recs, got[1])
		}
	}
}

// waitForSpan polls exp until trace holds a span of each of names and returns the trace's spans.
func waitForSpan(t *testing.T, exp *tracetest.InMemoryExporter, traceID string, names ...string) []tracetest.SpanStub {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(traceWait)
	for {
		var spans []tracetest.SpanStub
		for _, s := range exp.GetSpans() {
			if s.SpanContext.TraceID().String() == traceID {
				spans = append(spans, s)
			}
		}
		missing := ""
		for _, name := range names {
			if len(spansNamed(spans, name)) == 0 {
				missing = name
				break
			}
		}
		if missing == "" {
			return spans
		}
		select {
		case <-tick.C:
		case <-deadline:
			var have []string
			for _, s := range spans {
				have = append(have, s.Name)
			}
			t.Fatalf("after %v trace %s has no %s span; it has %v", traceWait, traceID, missing, have)
		}
	}
}

func must(t *testing.T, byName map[string]tracetest.SpanStub, name string) tracetest.SpanStub {
	t.Helper()
	s, ok := byName[name]
	if !ok {
		t.Fatalf("no %s span in the trace", name)
	}
	return s
}

func spansNamed(spans []tracetest.SpanStub, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func hasParent(child tracetest.SpanStub, parents []tracetest.SpanStub) bool {
	for _, p := range parents {
		if child.Parent.SpanID() == p.SpanContext.SpanID() && child.Parent.TraceID() == p.SpanContext.TraceID() {
			return true
		}
	}
	return false
}

func attr(s tracetest.SpanStub, key string) string {
	for _, a := range s.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}
