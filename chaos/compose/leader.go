package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
)

// StreamLeader asks every state-store node's NATS monitoring endpoint (/jsz?streams=true) which
// server leads stream and names the state-store part that is that server (its /varz
// server_name). Every monitor is tried, since the node asked may be the one that is down; it is
// an error when none answers or none knows the stream.
func (d *Deployment) StreamLeader(ctx context.Context, stream string) (string, error) {
	var name string
	err := d.eachStreamReport(ctx, stream, func(c *server.ClusterInfo) error {
		var err error
		name, err = d.partOfServer(ctx, c.Leader)
		return err
	})
	return name, err
}

// StreamReplicas is how many nodes keep stream, as the first node that knows its leader reports:
// the leader and its followers. One means the stream lives on one node alone.
func (d *Deployment) StreamReplicas(ctx context.Context, stream string) (int, error) {
	var n int
	err := d.eachStreamReport(ctx, stream, func(c *server.ClusterInfo) error {
		n = 1 + len(c.Replicas)
		return nil
	})
	return n, err
}

// eachStreamReport asks the state-store nodes' monitoring endpoints in turn for stream's cluster
// report and hands the first that names a leader to use; it tries the next node while use fails.
func (d *Deployment) eachStreamReport(ctx context.Context, stream string, use func(*server.ClusterInfo) error) error {
	parts := d.Parts("state-store")
	if len(parts) == 0 {
		return fmt.Errorf("%w: no parts of role state-store", ErrDeployment)
	}
	var errs []error
	for _, part := range parts {
		base := strings.TrimSuffix(d.o.Monitor[part], "/")
		if base == "" {
			errs = append(errs, fmt.Errorf("%s: no monitoring URL", part))
			continue
		}
		var jsz server.JSInfo
		if err := d.getJSON(ctx, base+"/jsz?streams=true", &jsz); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", part, err))
			continue
		}
		c := streamCluster(&jsz, stream)
		if c == nil || c.Leader == "" {
			errs = append(errs, fmt.Errorf("%s: stream %s has no leader there", part, stream))
			continue
		}
		if err := use(c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", part, err))
			continue
		}
		return nil
	}
	return fmt.Errorf("compose: stream %s: no state-store node tells: %w", stream, errors.Join(errs...))
}

// streamCluster is the JetStream report's cluster information of stream, nil if it has none.
func streamCluster(jsz *server.JSInfo, stream string) *server.ClusterInfo {
	for _, acc := range jsz.AccountDetails {
		for _, s := range acc.Streams {
			if s.Name == stream {
				return s.Cluster
			}
		}
	}
	return nil
}

// partOfServer maps a NATS server_name to the state-store part that runs it, asking each node's
// /varz once and remembering the answer.
func (d *Deployment) partOfServer(ctx context.Context, serverName string) (string, error) {
	for _, part := range d.Parts("state-store") {
		d.mu.Lock()
		known, ok := d.serverNames[part]
		d.mu.Unlock()
		if !ok {
			var varz server.Varz
			if err := d.getJSON(ctx, strings.TrimSuffix(d.o.Monitor[part], "/")+"/varz", &varz); err != nil {
				continue // a node that is down is not the leader
			}
			known = varz.Name
			d.mu.Lock()
			d.serverNames[part] = known
			d.mu.Unlock()
		}
		if known == serverName {
			return part, nil
		}
	}
	return "", fmt.Errorf("server %s leads it, but no state-store part answering says it is %s", serverName, serverName)
}

func (d *Deployment) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
