package outcomehttp

import (
	"net/http"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
)

// OperatorOnly is the one gate of every operator endpoint the router serves: next runs only for
// the operator's credential; any other caller is refused unauthenticated (no or an unknown
// credential) or forbidden (a tenant's or a workload's), in the contract's form. may says what
// only the operator may do, for the refusal's message ("replace workers").
func OperatorOnly(dir *identity.Directory, may string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		p, err := dir.Authenticate(req.Header.Get("Authorization"))
		switch {
		case err != nil:
			Reply(w, http.StatusUnauthorized, outcome.ReasonUnauthenticated, map[string]string{"error": "operator credential required"})
		case p.Role != identity.RoleOperator:
			Reply(w, http.StatusForbidden, outcome.ReasonForbidden, map[string]string{"error": "only the operator may " + may})
		default:
			next(w, req)
		}
	}
}
