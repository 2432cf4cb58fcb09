package fault

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aruntime/arcert/api/link"
)

// metricReceived is toxiproxy's per-proxy byte counter (its --proxy-metrics), labelled by proxy.
const metricReceived = "toxiproxy_proxy_received_bytes_total"

// metricsTimeout bounds one read of the server's metrics.
const metricsTimeout = 5 * time.Second

// Bytes returns how many bytes the proxies of role (and name, when not empty) have carried so
// far, both directions together. A fault can only be shown to have hit traffic if the traffic
// used the link: a spec reads Bytes before and after its steady-state load, and a link that
// carried nothing makes the run INVALID. The server must count bytes (StartServer does; a
// toxiproxy server in a container needs --proxy-metrics).
func (e *Engine) Bytes(ctx context.Context, role link.Role, name string) (int64, error) {
	want := map[string]bool{}
	for _, l := range e.Select(role, name) {
		want[l.Proxy] = true
	}
	if len(want) == 0 {
		return 0, fmt.Errorf("%w: role %q name %q", ErrNoLink, role, name)
	}
	ctx, cancel := context.WithTimeout(ctx, metricsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(e.api, "/")+"/metrics", nil)
	if err != nil {
		return 0, fmt.Errorf("fault: metrics: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("fault: metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("fault: metrics: %s (is the server counting bytes? --proxy-metrics)", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("fault: metrics: %w", err)
	}
	var total float64
	if fam, ok := families[metricReceived]; ok {
		for _, m := range fam.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "proxy" && want[lp.GetValue()] {
					total += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int64(total), nil
}
