package driver

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
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
