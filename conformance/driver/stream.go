package driver

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/openai"
)

// event is one SSE data payload: a content chunk, the final event, or a mid-stream error.
type event struct {
	openai.Chunk
	Error *openai.ErrorDetail `json:"error,omitempty"`
}

// streamState is what readStream keeps between events.
type streamState struct {
	text        strings.Builder
	last        time.Time
	lateContent bool
}

// readStream reads an SSE body to [DONE] and then to EOF, so that trailers are available. It
// returns an error only for a transport failure before the final outcome event: after it, the
// outcome is known and a cut connection changes nothing.
func (r *recorder) readStream(resp *http.Response) error {
	r.streamed = true
	var st streamState
	defer func() { r.res.Text = st.text.String() }()

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	var data []string
	done := false
	for !done && sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				done = r.dispatch(&st, strings.Join(data, "\n"), time.Now())
				data = data[:0]
			}
		case strings.HasPrefix(line, ":"):
			// An SSE comment, typically a keep-alive.
		default:
			if field, value, _ := strings.Cut(line, ":"); field == "data" {
				data = append(data, strings.TrimPrefix(value, " "))
			}
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		r.violate("stream event over %d bytes", maxEventBytes)
		return nil
	case err != nil && !r.final.present && !r.inferredEnd():
		// Once a stated final event, or for an inferred outcome a finish_reason, arrived, the
		// end is known.
		return err
	case err != nil:
		return nil
	}
	if !done {
		r.violate("stream ended without data: [DONE]")
		return nil
	}
	// Trailers follow the body; a failure here cannot change a stream that already ended.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxEventBytes))
	return nil
}

// dispatch records one data payload received at at and reports whether it was [DONE].
func (r *recorder) dispatch(st *streamState, payload string, at time.Time) bool {
	if payload == "[DONE]" {
		r.facts.sawDone = true
		return true
	}
	var ev event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		if e, ok := r.peerError(payload); ok {
			// A peer's error event (TGI's string error, vLLM's numeric code).
			r.res.MidStreamError = true
			r.res.Error = &openai.ErrorDetail{Message: e.Message, Type: e.Type, Code: e.Code}
			r.facts.errInfo, r.facts.hasErrInfo, r.facts.streamErr = e, true, true
			return false
		}
		r.violate("stream event is not JSON: %v", err)
		r.facts.badEvents++
		return false
	}
	if ev.Usage != nil {
		r.res.Usage = *ev.Usage
	}
	if ev.Error != nil {
		r.res.MidStreamError = true
		r.res.Error = ev.Error
		r.facts.errInfo = errorFromDetail(*ev.Error)
		r.facts.hasErrInfo, r.facts.streamErr = true, true
		if ev.Outcome == nil {
			r.contract("mid-stream error event without aruntime_outcome")
			return false
		}
		r.setFinal(statementFromBody(ev.Outcome, "stream error event", r.violate))
		if r.final.class.Served() {
			r.violate("stream error event with served class %q", r.final.class)
		}
		return false
	}
	if len(ev.Choices) > 0 {
		r.facts.choiceEvents++
	}
	for _, ch := range ev.Choices {
		if ch.Index != 0 {
			continue
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			r.facts.finishReason = *ch.FinishReason
			r.res.FinishReason = *ch.FinishReason
		}
		if ch.Delta != nil {
			r.res.ToolCalls = append(r.res.ToolCalls, ch.Delta.ToolCalls...)
		}
		var s string
		switch {
		case ch.Delta != nil && ch.Delta.Content != "":
			s = ch.Delta.Content
		case ch.Text != nil:
			s = *ch.Text
		}
		if s != "" {
			r.content(st, s, at)
		}
	}
	if ev.Outcome != nil {
		if len(ev.Choices) > 0 {
			r.violate("final event carries choices")
		}
		if ev.Usage == nil {
			r.violate("final event without usage")
		}
		r.setFinal(statementFromBody(ev.Outcome, "final event", r.violate))
	}
	return false
}

// content records one content chunk and its timing.
func (r *recorder) content(st *streamState, s string, at time.Time) {
	if r.final.present && !st.lateContent {
		st.lateContent = true
		r.violate("content after the final outcome event")
	}
	if r.res.Tokens == 0 {
		r.res.TTFT = at.Sub(r.res.Start)
	} else {
		r.res.ITL = append(r.res.ITL, at.Sub(st.last))
	}
	st.last = at
	r.res.Tokens++
	st.text.WriteString(s)
	if r.onContent != nil {
		r.onContent(r.res.Tokens)
	}
}

// setFinal records the stream's outcome event; a stream states its final outcome once.
func (r *recorder) setFinal(s statement) {
	if r.final.present {
		r.violate("more than one outcome event in the stream")
	}
	r.final = s
}

// peerError reads, when outcomes are inferred, an event that is not our chunk as a peer's error.
func (r *recorder) peerError(payload string) (errorInfo, bool) {
	if !r.infer {
		return errorInfo{}, false
	}
	return parseErrorBody([]byte(payload))
}
