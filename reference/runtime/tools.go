package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aruntime/arcert/api/link"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/router"
	"github.com/aruntime/arcert/reference/tooladapter"
)

// ToolDefects are the bugs of tool calling: the router's and the adapter's.
type ToolDefects struct {
	Router  router.ToolDefects
	Adapter tooladapter.Defects
}

// toolLinkName names the tool link (role tool) in the topology and the target file.
const toolLinkName = "toolserver"

// toolAdapterLinkName names the router's link to the tool adapter (role tool_adapter).
const toolAdapterLinkName = "tooladapter"

// startTools readies runtime-side tools before the router is assembled: it starts the stand-in
// tool server when the configuration says embedded, stands the interposer on the adapter's link
// to it (role tool, so the harness can cut it), and runs the tool adapter here when
// tools.adapter_listen is set and no adapter_url names one elsewhere. The router then dials the
// adapter; the adapter dials the tool server through the link; neither has any other way there.
func (rt *Runtime) startTools(startCtx, ctx context.Context) error {
	t := &rt.cfg.Tools
	if !t.Enabled() {
		return nil
	}
	if t.ServerURL == config.EmbeddedBaseURL {
		if rt.opts.StartToolServer == nil {
			rt.log.Warn("runtime-side tools unavailable: tools.server_url is embedded and nothing starts it")
			return nil
		}
		mcpURL, seen, stop, err := rt.opts.StartToolServer(startCtx, *t)
		if err != nil {
			return fmt.Errorf("tool server: %w", err)
		}
		t.ServerURL, rt.topology.ToolServerSeen = mcpURL, seen
		rt.goPart("tool server", func() error {
			<-ctx.Done()
			return stop()
		})
	}
	rt.topology.ToolServer = t.ServerURL
	dial, err := rt.interposeURL(startCtx, link.RoleTool, toolLinkName, t.ServerURL)
	if err != nil {
		return fmt.Errorf("tool adapter: %w", err)
	}
	// With a router here, the adapter runs here unless adapter_url names one elsewhere; in
	// `aruntime tools` (no router) it always runs, on adapter_listen.
	if t.AdapterListen != "" && (t.AdapterURL == "" || !rt.opts.Router) {
		lis, err := listen("tool adapter", t.AdapterListen)
		if err != nil {
			return err
		}
		// Alone (`aruntime tools`), the adapter holds only what it needs of the configuration:
		// no tenant's, operator's or worker's key.
		view := rt.cfg
		if !rt.opts.Router {
			view = rt.cfg.ToolAdapterView()
		}
		srv := &http.Server{Handler: tooladapter.NewServer(view, dial, rt.opts.Defects.Tools.Adapter).Handler(), ReadHeaderTimeout: readHeaderTimeout}
		if t.AdapterURL == "" {
			t.AdapterURL = "http://" + lis.Addr().String()
		}
		rt.goPart("tool adapter", func() error {
			go func() {
				<-ctx.Done()
				_ = srv.Close()
			}()
			if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		rt.topology.Dials["tool adapter"] = append(rt.topology.Dials["tool adapter"], dial)
	}
	rt.topology.ToolAdapter = t.AdapterURL
	if rt.opts.Router && t.AdapterURL != "" {
		// The router dials the adapter through the tool_adapter link (the topology keeps the
		// adapter's own address, which TOOL-2 calls directly).
		via, err := rt.interposeURL(startCtx, link.RoleToolAdapter, toolAdapterLinkName, t.AdapterURL)
		if err != nil {
			return fmt.Errorf("tool adapter link: %w", err)
		}
		t.AdapterURL = via
	}
	rt.log.Info("tool adapter", "url", t.AdapterURL, "tool_server", t.ServerURL, "dial", dial)
	return nil
}
