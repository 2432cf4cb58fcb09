package router

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/api/outcome"
)

// httpEmitter writes a completion as one JSON body or, when the request asked to stream, as
// server-sent events. Headers go out with the first token, so a request refused before any output
// gets its own status and outcome; after that, the outcome travels in the final event and in
// trailers.
type httpEmitter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	j       job
	chat    bool
	created int64
	text    strings.Builder
	started bool
	// model is the model that serves, which a degraded request's chunks and body name.
	model string
	// writeTimeout bounds each event's write (Router.writeTimeout); 0 waits as long as the
	// client likes.
	writeTimeout time.Duration
	// deadlineSet is whether a write deadline was set on the connection, to be cleared at the
	// end so that a kept-alive connection's next request does not inherit it.
	deadlineSet bool
	// beforeHeaders, when set, adds to the headers just before they are sent (the rate-limit
	// headers, which must show the quota after admission).
	beforeHeaders func()
}

func newHTTPEmitter(w http.ResponseWriter, j job, chat bool, writeTimeout time.Duration) *httpEmitter {
	return &httpEmitter{w: w, rc: http.NewResponseController(w), j: j, chat: chat, created: time.Now().Unix(), writeTimeout: writeTimeout}
}

// The trailers a stream declares, so that clients reading only trailers see the final outcome.
var streamTrailers = strings.Join([]string{outcome.HeaderOutcome, outcome.HeaderReason, outcome.HeaderServedBy}, ", ")

func (e *httpEmitter) start(head ending) error {
	e.started = true
	e.model = head.model
	e.headers()
	if !e.j.c.Stream {
		return nil
	}
	h := e.w.Header()
	setOutcome(h, head.class, head.reason, head.servedBy)
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Trailer", streamTrailers)
	e.w.WriteHeader(http.StatusOK)
	return nil
}

// headers runs beforeHeaders, if any.
func (e *httpEmitter) headers() {
	if e.beforeHeaders != nil {
		e.beforeHeaders()
	}
}

// withholds reports a plain body, which goes out only when the request is served.
func (e *httpEmitter) withholds() bool { return !e.j.c.Stream }

func (e *httpEmitter) token(text string) error {
	if !e.j.c.Stream {
		e.text.WriteString(text)
		return nil
	}
	ch := openai.ChunkChoice{}
	if e.chat {
		ch.Delta = &openai.Delta{Content: text}
		if e.text.Len() == 0 {
			ch.Delta.Role = "assistant"
		}
		e.text.WriteString(text) // only its length matters on the streamed path
	} else {
		ch.Text = &text
	}
	return e.event(e.chunk([]openai.ChunkChoice{ch}))
}

func (e *httpEmitter) chunk(choices []openai.ChunkChoice) openai.Chunk {
	obj := "text_completion"
	if e.chat {
		obj = "chat.completion.chunk"
	}
	return openai.Chunk{ID: e.j.id, Object: obj, Created: e.created, Model: e.servedModel(), Choices: choices}
}

// servedModel is the model a response names: the one that served, else the one asked for.
func (e *httpEmitter) servedModel() string {
	if e.model != "" {
		return e.model
	}
	return e.j.c.Model.Name
}

// event writes one SSE data event and flushes it, so TTFT is the runtime's and not a buffer's.
func (e *httpEmitter) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if e.writeTimeout > 0 {
		// A connection that cannot take a deadline (none of net/http's can't) waits as before.
		e.deadlineSet = e.rc.SetWriteDeadline(time.Now().Add(e.writeTimeout)) == nil
	}
	if _, err := e.w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
		return tooSlow(err)
	}
	return tooSlow(e.rc.Flush())
}

// usage converts the worker's accounting to OpenAI's.
func usage(end ending) openai.Usage {
	p, c := int(end.usage.Prompt), int(end.usage.Completion)
	return openai.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c,
		PromptTokensDetails: openai.PromptTokensDetails{CachedTokens: int(end.usage.Cached)}}
}

// finish writes how the request ended.
func (e *httpEmitter) finish(end ending) {
	switch {
	case !e.started:
		e.headers()
		writeRefusal(e.w, end, "")
	case !e.j.c.Stream:
		e.finishPlain(end)
	default:
		e.finishStream(end)
	}
}

func (e *httpEmitter) finishPlain(end ending) {
	if !end.class.Served() {
		writeRefusal(e.w, end, "")
		return
	}
	text := e.text.String()
	choice := openai.Choice{FinishReason: end.finish}
	obj := "text_completion"
	if e.chat {
		obj = "chat.completion"
		choice.Message = &openai.ChatMessage{Role: "assistant", Content: text, ToolCalls: end.toolCalls}
	} else {
		choice.Text = &text
	}
	setOutcome(e.w.Header(), end.class, end.reason, end.servedBy)
	writeJSON(e.w, http.StatusOK, openai.CompletionResponse{
		ID: e.j.id, Object: obj, Created: e.created, Model: e.servedModel(),
		Choices: []openai.Choice{choice}, Usage: usage(end), Outcome: wireOutcome(end),
	})
}

func (e *httpEmitter) finishStream(end ending) {
	if end.reason == outcome.ReasonClientCancelled || end.reason == outcome.ReasonClientTooSlow {
		return // nobody is reading
	}
	if e.deadlineSet {
		defer func() { _ = e.rc.SetWriteDeadline(time.Time{}) }()
	}
	u := usage(end)
	if end.class.Served() {
		reason := end.finish
		if len(end.toolCalls) > 0 && e.chat {
			_ = e.event(e.chunk([]openai.ChunkChoice{{Delta: &openai.Delta{Role: "assistant", ToolCalls: indexed(end.toolCalls)}}}))
		}
		_ = e.event(e.chunk([]openai.ChunkChoice{e.finishChoice(reason)}))
		final := e.chunk([]openai.ChunkChoice{})
		final.Usage, final.Outcome = &u, wireOutcome(end)
		_ = e.event(final)
	} else {
		body := errorBody(end, "")
		_ = e.event(struct {
			Error   openai.ErrorDetail `json:"error"`
			Usage   *openai.Usage      `json:"usage,omitempty"`
			Outcome *openai.Outcome    `json:"aruntime_outcome"`
		}{body.Error, &u, body.Outcome})
	}
	_, _ = e.w.Write([]byte("data: [DONE]\n\n"))
	setOutcome(e.w.Header(), end.class, end.reason, end.servedBy)
}

// finishChoice is the last content-free chunk that carries finish_reason, as OpenAI streams do.
func (e *httpEmitter) finishChoice(reason string) openai.ChunkChoice {
	ch := openai.ChunkChoice{FinishReason: &reason}
	if e.chat {
		ch.Delta = &openai.Delta{}
	} else {
		empty := ""
		ch.Text = &empty
	}
	return ch
}
