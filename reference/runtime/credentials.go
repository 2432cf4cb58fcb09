package runtime

import (
	"net/http"

	"github.com/aruntime/arcert/api/outcome"
	"github.com/aruntime/arcert/reference/identity"
	"github.com/aruntime/arcert/reference/outcomehttp"
)

// CredentialsPath is where the operator reads which credentials reached a worker: the
// fingerprints of every metadata value its current instance was presented (worker.CredentialsSeen).
// It is the worker-side twin of the stand-in provider's record, so that an audit can show that
// no tenant's key ever reached a worker, without any secret travelling back.
const CredentialsPath = "/v1/control/workers/{id}/credentials"

// WorkerCredentials is the body of GET CredentialsPath.
type WorkerCredentials struct {
	Worker string `json:"worker"`
	// Credentials are fingerprints: the first 16 hex digits of each value's SHA-256, a bearer
	// value without its scheme.
	Credentials []string `json:"credentials"`
}

// credentialsHandler serves GET CredentialsPath for the operator only.
func (rt *Runtime) credentialsHandler(dir *identity.Directory) http.HandlerFunc {
	return outcomehttp.OperatorOnly(dir, "read what reached a worker", func(w http.ResponseWriter, req *http.Request) {
		reply := func(status int, reason outcome.Reason, body any) { outcomehttp.Reply(w, status, reason, body) }
		id := req.PathValue("id")
		rt.workersMu.Lock()
		h, ok := rt.workers[id]
		rt.workersMu.Unlock()
		if !ok || h.srv == nil {
			reply(http.StatusNotFound, outcome.ReasonNotFound, map[string]string{"error": "no worker " + id + " here"})
			return
		}
		reply(http.StatusOK, outcome.ReasonNone, WorkerCredentials{Worker: id, Credentials: h.srv.CredentialsSeen()})
	})
}
