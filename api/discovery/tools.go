package discovery

// ToolCall is one tool call an evidence record lists: what the request's model called, where it
// ran, and how it ended, so the bill and the audit can see that a tool acted for the request.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Side is "runtime" (the tool adapter executed it) or "client" (it went back to the caller
	// as tool_calls).
	Side string `json:"side"`
	// Outcome is "ok", "tool_error" (the tool answered with an error), "unavailable" or
	// "returned" (a client-side call handed to the caller).
	Outcome string `json:"outcome"`
}
