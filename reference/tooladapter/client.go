package tooladapter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client is the router's side of the adapter: it calls CallPath with the router's own key
// (tools.router_key), never a tenant's.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// NewClient calls the adapter at base (its root URL) with routerKey.
func NewClient(base, routerKey string) *Client {
	return &Client{base: strings.TrimSuffix(base, "/"), token: routerKey, http: &http.Client{}}
}

// Call executes req through the adapter. An adapter that cannot be reached, or answers that the
// tool server cannot, is ErrUnavailable; any other refusal is ErrRefused.
func (c *Client) Call(ctx context.Context, req CallRequest) (CallResult, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return CallResult{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+CallPath, bytes.NewReader(body))
	if err != nil {
		return CallResult{}, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	hr.Header.Set("Authorization", "Bearer "+c.token)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(hr)
	if err != nil {
		return CallResult{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var res CallResult
	switch {
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		return CallResult{}, fmt.Errorf("%w: adapter answered %s", ErrUnavailable, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return CallResult{}, fmt.Errorf("%w: adapter answered %s", ErrRefused, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&res); err != nil {
		return CallResult{}, fmt.Errorf("%w: reading the adapter's answer: %w", ErrUnavailable, err)
	}
	if len(res.Text) > MaxResultBytes {
		return CallResult{}, fmt.Errorf("%w: %w: %d bytes, at most %d", ErrUnavailable, ErrTooLarge, len(res.Text), MaxResultBytes)
	}
	return res, nil
}
