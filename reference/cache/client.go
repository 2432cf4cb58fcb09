package cache

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	arcertv1 "github.com/aruntime/arcert/api/gen/arcert/v1"
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// Token is the worker credential the tier was started with.
	Token string
	// BlockBytes is what one of this worker's blocks costs in the tier: its
	// block size in tokens times the KV bytes per token. Put charges it for
	// every key, because a block's cost is the worker's to know.
	BlockBytes uint64
}

// Client calls the tier on behalf of one worker. Its Match and Put have the
// signatures of the worker's L2 client, so a worker uses it directly.
type Client struct {
	rpc        arcertv1.CacheClient
	token      string
	blockBytes uint64
}

// NewClient returns a client over cc, which stays the caller's to close.
func NewClient(cc grpc.ClientConnInterface, o ClientOptions) (*Client, error) {
	switch {
	case cc == nil:
		return nil, fmt.Errorf("%w: no connection", ErrOptions)
	case o.Token == "":
		return nil, fmt.Errorf("%w: ClientOptions.Token is empty", ErrOptions)
	case o.BlockBytes == 0:
		return nil, fmt.Errorf("%w: ClientOptions.BlockBytes is 0", ErrOptions)
	}
	return &Client{rpc: arcertv1.NewCacheClient(cc), token: o.Token, blockBytes: o.BlockBytes}, nil
}

// Match returns how many leading keys tenant's scope holds. Keys beyond
// MaxKeysPerCall are not asked about: the answer is still a valid prefix.
func (c *Client) Match(ctx context.Context, tenant string, keys []Key) (int, error) {
	keys = keys[:min(len(keys), MaxKeysPerCall)]
	if len(keys) == 0 {
		return 0, nil
	}
	resp, err := c.rpc.Match(withToken(ctx, c.token), &arcertv1.CacheMatchRequest{Tenant: tenant, Keys: keysToWire(keys)})
	if err != nil {
		return 0, fmt.Errorf("cache: match: %w", err)
	}
	n := resp.GetMatched()
	if n < 0 || n > int64(len(keys)) {
		return 0, fmt.Errorf("cache: match: tier answered %d of %d keys", n, len(keys))
	}
	return int(n), nil
}

// Put stores keys in tenant's scope at the client's block size. Longer
// lists go in MaxKeysPerCall chunks, the last chunk first, so that the
// prompt's first blocks end up the most recently used, as in one call.
func (c *Client) Put(ctx context.Context, tenant string, keys []Key) error {
	for end := len(keys); end > 0; end -= MaxKeysPerCall {
		chunk := keys[max(end-MaxKeysPerCall, 0):end]
		req := &arcertv1.CachePutRequest{Tenant: tenant, Keys: keysToWire(chunk), BlockBytes: c.blockBytes}
		if _, err := c.rpc.Put(withToken(ctx, c.token), req); err != nil {
			return fmt.Errorf("cache: put: %w", err)
		}
	}
	return nil
}

// Stats returns the tier's counters, in total and by tenant.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	resp, err := c.rpc.Stats(withToken(ctx, c.token), &arcertv1.CacheStatsRequest{})
	if err != nil {
		return Stats{}, fmt.Errorf("cache: stats: %w", err)
	}
	return statsFromWire(resp), nil
}
