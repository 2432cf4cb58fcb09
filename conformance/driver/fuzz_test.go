package driver

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/outcome"
)

// FuzzReadStream feeds arbitrary SSE bodies to the stream reader: whatever a runtime sends, the
// driver records it without panicking.
func FuzzReadStream(f *testing.F) {
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: {\"error\":{\"message\":\"x\"},\"aruntime_outcome\":{\"class\":\"failed\"}}\n\n"))
	f.Add([]byte(": keep-alive\r\ndata: {\"choices\":[],\"aruntime_outcome\":{\"class\":\"completed\",\"reason\":\"none\"}}\r\n\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		res := Result{Start: time.Now()}
		r := recorder{res: &res}
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		r.readHeader(resp)
		if err := r.readStream(resp); err != nil {
			t.Fatalf("an in-memory body cannot fail in transport: %v", err)
		}
		r.finish(resp)
		if len(res.ITL) != max(res.Tokens-1, 0) {
			t.Fatalf("%d tokens but %d gaps", res.Tokens, len(res.ITL))
		}
	})
}

// FuzzInfer feeds arbitrary statuses and bodies, plain and streamed, to a driver that infers
// outcomes: whatever a runtime sends, the outcome is a class of the contract with a reason of
// that class, marked inferred, and served only for a 2xx whose body parsed.
func FuzzInfer(f *testing.F) {
	f.Add(200, false, []byte(`{"choices":[{"message":{"content":"a"},"finish_reason":"stop"}]}`))
	f.Add(503, false, []byte(`{"error":{"message":"busy","type":"api_error","param":null,"code":null}}`))
	f.Add(400, false, []byte(`{"object":"error","message":"bad","type":"BadRequestError","code":400}`))
	f.Add(429, false, []byte(`{"error":"Model is overloaded","error_type":"overloaded"}`))
	f.Add(200, true, []byte("data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"))
	f.Add(200, true, []byte("data: {\"error\":{\"message\":\"x\",\"code\":500}}\n\n"))
	f.Add(200, true, []byte("data: {\"error\":\"boom\",\"error_type\":\"generation\"}\n\n"))
	f.Fuzz(func(t *testing.T, status int, streamed bool, body []byte) {
		status = 100 + (max(status, -status)%500+500)%500 // 100..599
		res := Result{Start: time.Now()}
		r := recorder{res: &res, infer: true,
			rules: []Rule{{Status: 503, Code: "x", Class: outcome.Shed, Reason: outcome.ReasonDraining}}}
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		r.readHeader(resp)
		var err error
		if streamed {
			err = r.readStream(resp)
		} else {
			err = r.readPlain(resp)
		}
		if err != nil {
			t.Fatalf("an in-memory body cannot fail in transport: %v", err)
		}
		r.finish(resp)
		if r.stated() {
			return // a body that states the contract is read, not inferred
		}
		if !res.Inferred || !res.Outcome.Valid() || res.Reason.Class() != res.Outcome || res.InferredFrom == "" {
			t.Fatalf("status %d: inferred %v %s/%s from %q", status, res.Inferred, res.Outcome, res.Reason, res.InferredFrom)
		}
		if res.Outcome.Served() && (status/100 != 2 || res.MidStreamError) {
			t.Fatalf("status %d (mid-stream error %v) served", status, res.MidStreamError)
		}
	})
}

// FuzzParseErrorBody: any bytes are an error body or not, never a panic, and what is kept is
// bounded.
func FuzzParseErrorBody(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"m","type":"t","code":null}}`))
	f.Add([]byte(`{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}`))
	f.Add([]byte(`{"error":"Model is overloaded","error_type":"overloaded"}`))
	f.Add([]byte(`{"object":"error","message":"m","code":-4e400}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := parseErrorBody(b)
		if ok != (e.Message != "" || e.Type != "" || e.Code != "") {
			t.Fatalf("ok %v for %+v", ok, e)
		}
		if len(e.Message) > maxErrorField || len(e.Type) > maxErrorField || len(e.Code) > maxErrorField {
			t.Fatalf("unbounded field: %d %d %d", len(e.Message), len(e.Type), len(e.Code))
		}
		if e.Status != 0 && (e.Status < 400 || e.Status > 599) {
			t.Fatalf("status %d", e.Status)
		}
	})
}
