package runtime

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"testing"
)

// TestUnreadableAndUnsupportedRequests: a compressed body is refused 415 unsupported_media_type
// (not called broken text), and a request asking for tools is refused naming the field.
func TestUnreadableAndUnsupportedRequests(t *testing.T) {
	rt := start(t, devConfig(t))
	plain, err := json.Marshal(chat("hi", 4))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	withTools := chat("hi", 4)
	withTools["tools"] = []map[string]any{{"type": "retrieval"}}
	tests := []struct {
		name    string
		body    any
		hdr     map[string]string
		status  int
		reason  string
		message string
		param   string
	}{
		{"gzip declared", gz.Bytes(), map[string]string{"Content-Encoding": "gzip"}, 415, "unsupported_media_type",
			`Content-Encoding "gzip" is not supported: send the body uncompressed, as plain JSON`, ""},
		{"gzip undeclared", gz.Bytes(), nil, 415, "unsupported_media_type",
			"the body is gzip-compressed; this runtime reads plain JSON only (send it uncompressed)", ""},
		{"plain body labelled br", plain, map[string]string{"Content-Encoding": "br"}, 415, "unsupported_media_type",
			`Content-Encoding "br" is not supported: send the body uncompressed, as plain JSON`, ""},
		{"tools", withTools, nil, 400, "invalid_request",
			`tools[0].type is "retrieval"; only function tools exist`, "tools[0].type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, rt, "/v1/chat/completions", acmeKey, tc.body, tc.hdr)
			expectOutcome(t, r, tc.status, "rejected", tc.reason)
			var e struct {
				Error struct{ Message, Code, Param string } `json:"error"`
			}
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Message != tc.message || e.Error.Code != tc.reason || e.Error.Param != tc.param {
				t.Fatalf("error body %s, want message %q and param %q", r.body, tc.message, tc.param)
			}
			if tc.status == 415 && r.header.Get("Accept-Encoding") == "" && tc.hdr != nil {
				t.Fatal("a 415 for a content coding without Accept-Encoding (RFC 7694)")
			}
		})
	}
	expectOutcome(t, post(t, rt, "/v1/chat/completions", acmeKey, plain, map[string]string{"Content-Encoding": "identity"}), 200, "completed", "none")
}
