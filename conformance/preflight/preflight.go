// Package preflight checks, before any spec runs, that a certification can say anything at all:
// the runtime answers at its endpoint, the declared model is there, every tenant's credential is
// accepted and a made-up one refused, and one plain completion and one stream are served. A run
// that fails here would otherwise end in dozens of FAILs that all mean "cannot reach it"; the
// preflight stops it with one sentence instead.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/conformance/target"
)

// ErrPreflight marks a runtime the certification cannot start against.
var ErrPreflight = errors.New("preflight")

// Timeouts of the preflight: the dial is short, so a dead URL is named within two seconds; a
// request may take as long as a cold model's first answer.
const (
	dialTimeout    = 1500 * time.Millisecond
	requestTimeout = 30 * time.Second
)

// madeUpKey is a credential no runtime declares: it must be refused.
const madeUpKey = "arcert-preflight-not-a-key"

// Step is one check the preflight made, for the progress line.
type Step struct {
	Name string
	Took time.Duration
}

// Run makes the checks in order and stops at the first that fails, with an error wrapping
// ErrPreflight whose message is one sentence naming what is wrong and where. It returns the
// steps that passed. A target that lists several routers (endpoints.more) has every one checked:
// each HTTP and gRPC endpoint must accept a connection, then each router in turn must pass the
// request checks, as the certification will spread its load over all of them.
func Run(ctx context.Context, t *target.Target, c *driver.Client) ([]Step, error) {
	var steps []Step
	step := func(name string, check func(context.Context) error) error {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		if err := check(cctx); err != nil {
			return fmt.Errorf("%w: %s", ErrPreflight, err.Error())
		}
		steps = append(steps, Step{Name: name, Took: time.Since(start)})
		return nil
	}
	if len(t.Tenants) == 0 || len(t.Models) == 0 {
		return nil, fmt.Errorf("%w: the target declares no tenants or no models", ErrPreflight)
	}
	routes := c.Endpoints()
	if err := step("reachable", func(ctx context.Context) error { return reachableAll(ctx, routes, t.Endpoints.GRPCAddrs()) }); err != nil {
		return steps, err
	}
	for i := range routes {
		rc, name, where := c.At(i), "", func(err error) error { return err }
		if len(routes) > 1 {
			name = " at " + field(i, "http")
			where = func(err error) error {
				if err == nil {
					return nil
				}
				return fmt.Errorf("the router at %s (%s): %w", routes[i], field(i, "http"), err)
			}
		}
		checks := []struct {
			name  string
			check func(context.Context) error
		}{
			{"model listed", func(ctx context.Context) error { return modelListed(ctx, rc, t) }},
			{"tenant credentials accepted", func(ctx context.Context) error { return tenantsServed(ctx, rc, t) }},
			{"a made-up credential refused", func(ctx context.Context) error { return madeUpRefused(ctx, rc, t) }},
			{"a stream served", func(ctx context.Context) error { return streamServed(ctx, rc, t) }},
		}
		for _, ch := range checks {
			if err := step(ch.name+name, func(ctx context.Context) error { return where(ch.check(ctx)) }); err != nil {
				return steps, err
			}
		}
	}
	return steps, nil
}

// field is the target-file field of router i's endpoint of kind (http or grpc): the primary's
// endpoints.KIND, a further router's endpoints.more[i-1].KIND.
func field(i int, kind string) string {
	if i == 0 {
		return "endpoints." + kind
	}
	return fmt.Sprintf("endpoints.more[%d].%s", i-1, kind)
}

// reachableAll dials every router's HTTP endpoint, then every gRPC address; a further router is
// named with its field, so a dead second router is told from a dead primary.
func reachableAll(ctx context.Context, bases, grpcs []string) error {
	label := func(i int, kind string) string {
		if i == 0 {
			return ""
		}
		return " (" + field(i, kind) + ")"
	}
	for i, base := range bases {
		u, err := url.Parse(base)
		if err != nil || u.Host == "" {
			return fmt.Errorf("the endpoint %q%s is not a URL", base, label(i, "http"))
		}
		port := u.Port()
		if port == "" {
			port = "80"
			if u.Scheme == "https" {
				port = "443"
			}
		}
		if err := dial(ctx, net.JoinHostPort(u.Hostname(), port)); err != nil {
			return fmt.Errorf("cannot reach the runtime at %s%s: %s", base, label(i, "http"), plain(err))
		}
	}
	for i, addr := range grpcs {
		if err := dial(ctx, addr); err != nil {
			return fmt.Errorf("cannot reach the runtime's gRPC endpoint at %s (%s): %s", addr, field(i, "grpc"), plain(err))
		}
	}
	return nil
}

// dial opens and closes one TCP connection to host:port, within dialTimeout.
func dial(ctx context.Context, hostport string) error {
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return err
	}
	return conn.Close()
}

// plain is an error's innermost message ("connection refused"), without Go's wrapping.
func plain(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// modelListed asks GET /v1/models as the first tenant; a runtime without the endpoint (404) is
// not refused for it, but one that lists models without the declared one is.
func modelListed(ctx context.Context, c *driver.Client, t *target.Target) error {
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	status, _, err := c.GetJSON(ctx, "/v1/models", t.Tenants[0].Key, &list)
	switch {
	case err != nil:
		return fmt.Errorf("GET /v1/models: %s", plain(err))
	case status == http.StatusNotFound:
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("tenant %s's credential was refused with status %d on GET /v1/models", t.Tenants[0].Name, status)
	case status != http.StatusOK:
		return fmt.Errorf("GET /v1/models answered status %d", status)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	if !slices.Contains(ids, t.Models[0].Name) {
		return fmt.Errorf("the runtime does not list the declared model %q (it lists %v)", t.Models[0].Name, ids)
	}
	return nil
}

// completion is a one-token request for the first declared model.
func completion(t *target.Target, stream bool) openai.CompletionRequest {
	one := int64(1)
	return openai.CompletionRequest{Model: t.Models[0].Name, MaxTokens: &one, Stream: stream,
		Messages: []openai.ChatMessage{{Role: "user", Content: "arcert preflight: say one word."}}}
}

// tenantsServed sends one completion as each tenant: each must be answered 2xx with content.
func tenantsServed(ctx context.Context, c *driver.Client, t *target.Target) error {
	for _, tn := range t.Tenants {
		res, err := c.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: tn.Key, Body: completion(t, false)})
		switch {
		case err != nil:
			return fmt.Errorf("a completion as tenant %s broke off: %s", tn.Name, plain(err))
		case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
			return fmt.Errorf("tenant %s's declared credential was refused (status %d)", tn.Name, res.Status)
		case res.Status/100 != 2:
			return fmt.Errorf("a one-token completion as tenant %s was answered status %d%s", tn.Name, res.Status, errorText(res))
		}
	}
	return nil
}

// madeUpRefused sends one completion with a credential nobody declared: it must be refused.
// A target that does not declare tenant-binding claims no authentication (a runtime that serves
// any key, certified as one caller's): then there is nothing to hold it to here.
func madeUpRefused(ctx context.Context, c *driver.Client, t *target.Target) error {
	if !t.Declares("tenant-binding") {
		return nil
	}
	res, err := c.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: madeUpKey, Body: completion(t, false)})
	if err != nil {
		return fmt.Errorf("a completion with a made-up credential broke off: %s", plain(err))
	}
	if res.Status/100 == 2 {
		return errors.New("the runtime served a completion with a made-up credential: it does not authenticate tenants, so no tenant requirement can be judged")
	}
	return nil
}

// streamServed asks for one streamed completion as the first tenant: it must stream content.
func streamServed(ctx context.Context, c *driver.Client, t *target.Target) error {
	res, err := c.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Key: t.Tenants[0].Key, Body: completion(t, true)})
	switch {
	case err != nil:
		return fmt.Errorf("a streamed completion broke off: %s", plain(err))
	case res.Status/100 != 2:
		return fmt.Errorf("a streamed completion was answered status %d%s", res.Status, errorText(res))
	case res.Tokens == 0 || res.MidStreamError:
		return errors.New("a streamed completion delivered no content")
	}
	return nil
}

// errorText is ": message" of an OpenAI error body, empty when there is none.
func errorText(res driver.Result) string {
	if res.Error != nil && res.Error.Message != "" {
		return ": " + res.Error.Message
	}
	return ""
}
