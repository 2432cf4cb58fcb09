package router

import (
	"net/http"
	"time"

	"github.com/aruntime/arcert/reference/outcomehttp"
)

// routed serves mux's routes, and answers a request none of them takes the way net/http's mux
// decides (404 for an unknown path; 405 with Allow listing the methods the path answers) but in
// the contract's form: outcome headers, an OpenAI error body, and a count in /metrics.
func (r *Router) routed(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, pattern := mux.Handler(req); pattern != "" {
			mux.ServeHTTP(w, req) // ServeHTTP, not the handler itself: it sets the path values
			return
		}
		started := time.Now()
		// The mux's own answer to an unmatched request names the status and, for 405, the
		// methods allowed; only its plain-text body is left out.
		h, _ := mux.Handler(req)
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, req)
		reason := outcomehttp.ReasonOf(probe.status)
		msg := "no such endpoint: " + req.Method + " " + req.URL.Path
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
			msg = req.URL.Path + " does not answer " + req.Method + "; it answers " + allow
		}
		end := refused(reason, msg)
		writeRefusal(w, end, "")
		r.metrics.observe("", "", end, time.Since(started), nil)
	})
}

// statusProbe is a ResponseWriter that keeps the status and headers of a response and drops its
// body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }

func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}
