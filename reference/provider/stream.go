package provider

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aruntime/arcert/api/openai"
)

// Bounds on what the client reads, so a misbehaving upstream cannot make it hold unbounded memory.
const (
	// maxEventBytes bounds one SSE line; a token chunk is a few hundred bytes.
	maxEventBytes = 1 << 20
	// maxErrorBytes bounds how much of an error body is read for its message.
	maxErrorBytes = 64 << 10
	// maxMessageRunes bounds an upstream message quoted in an error, which may reach a response.
	maxMessageRunes = 512
)

// outbound is the body sent upstream, rebuilt field by field rather than copied: a field added to
// the request type later is not forwarded until someone decides it may be. User (the caller's
// end-user label) and CacheSalt (derived inside the tenant's own cache scope) never are. The
// answer is always streamed, with usage, whatever the caller asked, because the router emits
// tokens as they come either way.
func outbound(req openai.CompletionRequest) (body []byte, path string, err error) {
	switch {
	case req.Model == "":
		return nil, "", fmt.Errorf("%w: no model; not sent", ErrRejected)
	case len(req.Messages) > 0 && req.Prompt == nil:
		path = "/v1/chat/completions"
	case len(req.Messages) == 0 && req.Prompt != nil:
		path = "/v1/completions"
	default:
		return nil, "", fmt.Errorf("%w: want either messages or a prompt; not sent", ErrRejected)
	}
	if req.N != nil && *req.N != 1 {
		return nil, "", fmt.Errorf("%w: n=%d: one choice only; not sent", ErrRejected, *req.N)
	}
	out := openai.CompletionRequest{
		Model: req.Model, Messages: req.Messages, Prompt: req.Prompt,
		MaxTokens: req.MaxTokens, MaxCompletionTokens: req.MaxCompletionTokens,
		Seed: req.Seed, Temperature: req.Temperature, TopP: req.TopP, Stop: req.Stop,
		Stream: true, StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	}
	body, err = json.Marshal(out)
	if err != nil {
		return nil, "", fmt.Errorf("%w: encode: %w", ErrRejected, err)
	}
	return body, path, nil
}

// Stream sends req to the provider and calls onToken with each piece of content as it arrives.
// Chat requests (Messages) go to /v1/chat/completions, prompt requests to /v1/completions, so
// the output keeps the shape the caller asked for.
//
// Errors: ErrUnavailable or ErrRejected (an *UpstreamError when the upstream answered), the
// context's error once ctx is done (never classified as the upstream's fault, so the router can
// tell a deadline from an outage), or onToken's error wrapped as is. Whether output already went
// out is the caller's to know from onToken; only before the first token may it try another place.
func (c *Client) Stream(ctx context.Context, req openai.CompletionRequest, onToken func(string) error) (Usage, error) {
	body, path, err := outbound(req)
	if err != nil {
		return Usage{}, err
	}
	hreq, err := c.newRequest(ctx, path, body)
	if err != nil {
		return Usage{}, err
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return Usage{}, c.transportErr(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Usage{}, upstreamError(resp)
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType == "application/json" {
		return c.whole(ctx, resp.Body, onToken)
	}
	return c.events(ctx, resp.Body, onToken)
}

// event is one SSE data payload: a chunk, or an error an upstream reports mid-stream.
type event struct {
	openai.Chunk
	Error *openai.ErrorDetail `json:"error"`
}

// events reads an SSE stream to its [DONE]. A stream that ends early is a failure unless a finish
// reason was already seen, since some compatible servers omit [DONE].
func (c *Client) events(ctx context.Context, body io.Reader, onToken func(string) error) (Usage, error) {
	var u Usage
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), maxEventBytes)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return u, fmt.Errorf("provider: stream: %w", context.Cause(ctx))
		}
		data, ok := strings.CutPrefix(sc.Text(), "data:")
		if !ok {
			continue // blank separators, comments, event: and id: lines
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			return u, nil
		}
		var ev event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return u, fmt.Errorf("%w: malformed event %.80q: %w", ErrUnavailable, data, err)
		}
		if ev.Error != nil {
			return u, fmt.Errorf("%w: mid-stream: %s", ErrUnavailable, truncate(ev.Error.Message))
		}
		for _, ch := range ev.Choices {
			if err := deliver(&u, ch.Index, content(ch), ch.FinishReason, onToken); err != nil {
				return u, err
			}
		}
		if ev.Usage != nil {
			u.setReported(*ev.Usage)
		}
	}
	if err := ctx.Err(); err != nil {
		return u, fmt.Errorf("provider: stream: %w", context.Cause(ctx))
	}
	if err := sc.Err(); err != nil {
		return u, fmt.Errorf("%w: stream: %w", ErrUnavailable, err)
	}
	if u.FinishReason == "" {
		return u, fmt.Errorf("%w: the stream ended without [DONE] or a finish reason", ErrUnavailable)
	}
	return u, nil
}

// whole handles an upstream that answered a streamed request with one JSON body: the text is
// delivered as a single piece, which keeps the output contract if not the timing.
func (c *Client) whole(ctx context.Context, body io.Reader, onToken func(string) error) (Usage, error) {
	var resp openai.CompletionResponse
	if err := json.NewDecoder(body).Decode(&resp); err != nil {
		if ctx.Err() != nil {
			return Usage{}, fmt.Errorf("provider: response: %w", context.Cause(ctx))
		}
		return Usage{}, fmt.Errorf("%w: malformed response: %w", ErrUnavailable, err)
	}
	var u Usage
	for _, ch := range resp.Choices {
		text := ""
		if ch.Message != nil {
			text = ch.Message.Content
		} else if ch.Text != nil {
			text = *ch.Text
		}
		finish := ch.FinishReason
		if err := deliver(&u, ch.Index, text, &finish, onToken); err != nil {
			return u, err
		}
	}
	if resp.Usage.TotalTokens > 0 || resp.Usage.CompletionTokens > 0 {
		u.setReported(resp.Usage)
	}
	return u, nil
}

// deliver passes the first choice's text to onToken and notes its finish reason. Other choices are
// ignored: the request asked for one.
func deliver(u *Usage, index int, text string, finish *string, onToken func(string) error) error {
	if index != 0 {
		return nil
	}
	if text != "" {
		if !u.Reported {
			u.CompletionTokens++
		}
		if err := onToken(text); err != nil {
			return fmt.Errorf("provider: deliver token: %w", err)
		}
	}
	if finish != nil && *finish != "" {
		u.FinishReason = *finish
	}
	return nil
}

// content is the text of a streamed choice, chat or completion.
func content(ch openai.ChunkChoice) string {
	if ch.Delta != nil {
		return ch.Delta.Content
	}
	if ch.Text != nil {
		return *ch.Text
	}
	return ""
}

// setReported replaces the client's own counts with the upstream's.
func (u *Usage) setReported(r openai.Usage) {
	u.PromptTokens, u.CompletionTokens = r.PromptTokens, r.CompletionTokens
	u.CachedTokens, u.Reported = r.PromptTokensDetails.CachedTokens, true
}

// transportErr classifies a failed round trip: the context's own end first, then the upstream.
func (c *Client) transportErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("provider: request: %w", context.Cause(ctx))
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// upstreamError reads a non-success answer into an *UpstreamError.
func upstreamError(resp *http.Response) error {
	e := &UpstreamError{Status: resp.StatusCode, kind: classify(resp.StatusCode)}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes)) // a short read still has a status
	var body openai.ErrorBody
	if json.Unmarshal(raw, &body) == nil && body.Error.Message != "" {
		e.Message = truncate(body.Error.Message)
	} else {
		e.Message = truncate(strings.TrimSpace(string(raw)))
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode/100 == 3 {
		e.Message = "redirect to " + resp.Header.Get("Location") + " not followed"
	}
	return e
}

// truncate bounds an upstream message quoted in an error.
func truncate(s string) string {
	if r := []rune(s); len(r) > maxMessageRunes {
		return string(r[:maxMessageRunes]) + "…"
	}
	return s
}
