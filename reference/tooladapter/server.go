package tooladapter

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/config"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// maxCallBytes bounds a call body: tool arguments, never prompts.
const maxCallBytes = 64 << 10

// Defects are deliberate bugs of the adapter for the harness's negative controls; the zero value
// is the conformant adapter.
type Defects struct {
	// TenantKey presents the calling tenant's own key (looked up in the shared configuration) to
	// the tool server instead of the adapter's.
	TenantKey bool
	// DropContext passes only the tenant to the tool server, losing application and user.
	DropContext bool
	// AnyCaller lets any credential the runtime knows (a tenant's, the operator's) call the
	// adapter, not only the router's key.
	AnyCaller bool
	// AcceptWorkload lets the workload credential (router.worker_token, which every worker and
	// the cache tier hold) call the adapter as well as the router's key.
	AcceptWorkload bool
}

// Server is the adapter's HTTP side.
type Server struct {
	cfg      *config.Config
	ids      *identity.Directory
	endpoint string
	defects  Defects
}

// NewServer returns an adapter that calls the MCP server at endpoint (the dial address of the
// tool link) for the tools cfg serves.
func NewServer(cfg *config.Config, endpoint string, d Defects) *Server {
	return &Server{cfg: cfg, ids: identity.NewDirectory(cfg), endpoint: endpoint, defects: d}
}

// Handler serves CallPath. Only the router's key (tools.router_key) may call it: the adapter
// believes the tenant context in the body, so whoever may call it may act for any tenant. A
// tenant's key is forbidden (a tenant reaches tools only through a request the router
// admitted), an operator's and the workload credential too, and anything else is
// unauthenticated.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+CallPath, s.call)
	return outcomehttp.WithOutcome(mux, func() string { return outcomehttp.NewID("tool-") })
}

func (s *Server) call(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, reason outcome.Reason, msg string) {
		outcomehttp.Reply(w, status, reason, map[string]string{"error": msg})
	}
	if status, msg := s.authorize(r.Header.Get("Authorization")); status != 0 {
		reason := outcome.ReasonForbidden
		if status == http.StatusUnauthorized {
			reason = outcome.ReasonUnauthenticated
		}
		reply(status, reason, msg)
		return
	}
	var req CallRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallBytes))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	switch {
	case err != nil:
		reply(http.StatusBadRequest, outcome.ReasonInvalidRequest, "the body is not a tool call: "+err.Error())
		return
	case !slices.Contains(s.cfg.Tools.Served, req.Tool):
		reply(http.StatusNotFound, outcome.ReasonNotFound, "no tool "+req.Tool+" here")
		return
	case !s.cfg.TenantMayUse(req.Tenant, req.Tool):
		reply(http.StatusForbidden, outcome.ReasonToolNotAllowed, "tenant "+req.Tenant+" may not use "+req.Tool)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Tools.Timeout())
	defer cancel()
	res, err := CallMCP(ctx, s.endpoint, s.key(req.Tenant), req, s.meta(req))
	if err != nil {
		reason := outcome.ReasonToolUnavailable
		if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrTooLarge) {
			reason = outcome.ReasonInternal
		}
		reply(http.StatusBadGateway, reason, err.Error())
		return
	}
	outcomehttp.Reply(w, http.StatusOK, outcome.ReasonNone, res)
}

// authorize admits the router's key; it answers 403 for a credential the runtime knows as
// another identity and 401 for anything else (0 when admitted).
func (s *Server) authorize(header string) (int, string) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if ok && s.cfg.Tools.RouterKey != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.Tools.RouterKey)) == 1 {
		return 0, ""
	}
	p, err := s.ids.Authenticate(header)
	switch {
	case err != nil:
		return http.StatusUnauthorized, "only the router's key may call the tool adapter"
	case s.defects.AnyCaller, s.defects.AcceptWorkload && p.Role == identity.RoleWorker:
		return 0, ""
	}
	return http.StatusForbidden, "a " + string(p.Role) + " credential may not call the tool adapter"
}

// key is the credential presented to the tool server: always the adapter's own.
func (s *Server) key(tenant string) string {
	if s.defects.TenantKey {
		if t, ok := s.cfg.Tenant(tenant); ok && len(t.Keys) > 0 {
			return t.Keys[0].Key
		}
	}
	return s.cfg.Tools.AdapterKey
}

func (s *Server) meta(req CallRequest) map[string]any {
	if s.defects.DropContext {
		return map[string]any{MetaTenant: req.Tenant, MetaRequestID: req.RequestID}
	}
	return contextMeta(req)
}
