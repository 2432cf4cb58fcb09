package driver

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aruntime/arcert/api/openai"
)

// errorInfo is what an OpenAI-compatible runtime said about a refusal or a mid-stream failure,
// read from whichever shape it used. It is all the inference of an outcome has besides the status.
type errorInfo struct {
	Message string
	Type    string
	Code    string
	// Status is a numeric code in 400..599. vLLM and llama.cpp copy the HTTP status into code,
	// so a mid-stream error, sent under 200, can still be read by the status it stands for.
	Status int
}

// maxErrorField bounds each field kept from an error body: the message is evidence for a person,
// and a runtime that sends megabytes of it must not fill the ledger.
const maxErrorField = 1 << 10

// parseErrorBody reads an error body in the shapes OpenAI-compatible runtimes send, and reports
// whether it found one:
//   - OpenAI, Ollama, llama.cpp, vLLM ≥ 0.9: {"error": {"message", "type", "code", "param"}},
//     code a string, null, or (vLLM, llama.cpp) the HTTP status as a number;
//   - older vLLM: the same fields at the top level, with "object": "error";
//   - TGI: {"error": "message", "error_type": "overloaded"}.
//
// It never fails on bad input: anything else is no error body.
func parseErrorBody(b []byte) (errorInfo, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return errorInfo{}, false
	}
	var e errorInfo
	if raw, ok := top["error"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) == nil && inner != nil {
			e = errorFields(inner)
		} else {
			e.Message = scalar(raw)
			e.Type = scalar(top["error_type"])
		}
	} else if scalar(top["object"]) == "error" {
		e = errorFields(top)
	}
	return e, e.Message != "" || e.Type != "" || e.Code != ""
}

// errorFields reads message, type and code from one error object.
func errorFields(m map[string]json.RawMessage) errorInfo {
	return withStatus(errorInfo{Message: scalar(m["message"]), Type: scalar(m["type"]), Code: scalar(m["code"])})
}

// errorFromDetail is an error event read as the contract's own error object.
func errorFromDetail(d openai.ErrorDetail) errorInfo {
	return withStatus(errorInfo{Message: d.Message, Type: d.Type, Code: d.Code})
}

// withStatus fills in Status when the code is an HTTP error status.
func withStatus(e errorInfo) errorInfo {
	if n, err := strconv.Atoi(e.Code); err == nil && n >= 400 && n <= 599 {
		e.Status = n
	}
	return e
}

// scalar renders a JSON string or number as text; null, objects and arrays are "".
func scalar(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	switch raw[0] {
	case '"':
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return ""
		}
		s = n.String()
	default:
		return ""
	}
	s = strings.TrimSpace(s)
	if len(s) > maxErrorField {
		s = s[:maxErrorField]
	}
	return s
}
