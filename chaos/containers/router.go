package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aruntime/arcert/api/discovery"
)

// versionsTimeout bounds one look at the router's view of its workers.
const versionsTimeout = 2 * time.Second

// healthyWorkers asks the router which workers it finds healthy, with the operator credential:
// "the router serves" means it can reach the workers through their proxies, not only that its
// port is open.
func (d *Deployment) healthyWorkers(ctx context.Context) (map[string]bool, error) {
	if len(d.cfg.Operators) == 0 {
		return nil, fmt.Errorf("containers: %s declares no operator to ask the router with", d.cfg.Source)
	}
	ctx, cancel := context.WithTimeout(ctx, versionsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.HTTPURL()+"/v1/aruntime/versions", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.cfg.Operators[0].Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("versions: %s: %s", resp.Status, body)
	}
	var v discovery.Versions
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, fmt.Errorf("versions: %w", err)
	}
	out := map[string]bool{}
	for _, w := range v.Workers {
		out[w.Worker] = w.Healthy
	}
	return out, nil
}

// waitRouter waits until the router reports at least want workers healthy.
func (d *Deployment) waitRouter(ctx context.Context, want int) error {
	return d.poll(ctx, fmt.Sprintf("the router reports %d workers healthy", want), func(ctx context.Context) (bool, error) {
		healthy, err := d.healthyWorkers(ctx)
		n := 0
		for _, ok := range healthy {
			if ok {
				n++
			}
		}
		return n >= want, err
	})
}
