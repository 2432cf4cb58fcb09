package driver

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// tableStatuses are the statuses InferenceTable lists: those byStatus names, and one of each
// default.
var tableStatuses = []int{400, 401, 403, 404, 405, 408, 413, 415, 422, 429, 500, 501, 502, 503, 504}

// InferenceTable renders, as Markdown, how WithInferredOutcomes reads a response that states no
// outcome: the peers' documented error codes and types first, then the status alone. It is the
// table a README shows to whoever certifies a runtime they did not write.
func InferenceTable() string {
	var b strings.Builder
	b.WriteString("| when the response has | outcome | as documented by |\n|---|---|---|\n")
	b.WriteString("| a rule of the target's `contract.map` that matches its status, type and code (first match) | the rule's outcome | the target |\n")
	for _, t := range []struct {
		what  string
		table map[string]knownError
	}{{"error code", knownCodes}, {"error type", knownTypes}} {
		keys := make([]string, 0, len(t.table))
		for k := range t.table {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ke := t.table[k]
			out := string(ke.class) + "/" + string(ke.reason)
			if ke.reason == "" {
				out = "shed/queue_full on 429, shed/capacity otherwise"
			}
			fmt.Fprintf(&b, "| %s `%s` | %s | %s |\n", t.what, k, out, ke.who)
		}
	}
	fmt.Fprintf(&b, "| status 400 and a message saying %q | rejected/context_length_exceeded | OpenAI, vLLM |\n", contextTooLong)
	for _, s := range tableStatuses {
		c, r := byStatus(s, true)
		row := fmt.Sprintf("%s/%s", c, r)
		if s == http.StatusNotFound {
			c2, r2 := byStatus(s, false)
			row += fmt.Sprintf(" (%s/%s without an error body)", c2, r2)
		}
		fmt.Fprintf(&b, "| status %d | %s | HTTP |\n", s, row)
	}
	b.WriteString("| any other 4xx / 5xx | rejected/invalid_request / failed/internal | HTTP |\n")
	b.WriteString("| 2xx: a choice with a finish_reason, or a stream ended by finish_reason or `data: [DONE]` after a completion chunk | completed/none | OpenAI |\n")
	b.WriteString("| 2xx: empty, malformed, no choice or finish_reason, a stream that stopped early or carried an error event | failed/internal (an error event: by its type, code or numeric code) | — |\n")
	b.WriteString("| a connection broken after the request was sent, before the end | indeterminate | — |\n")
	return b.String()
}
