package fault

import "context"

// Nodes kills and brings back the runtime's own parts: worker processes or instances in the
// embedded default, containers in a containerized deployment. Link faults cut what a part
// dials; node faults take the part itself away.
type Nodes interface {
	// Parts lists the parts of a role (for example "worker") that can be killed.
	Parts(role string) []string
	// Kill stops a part abruptly: its connections drop and its in-flight work is lost to it.
	Kill(ctx context.Context, role, name string) error
	// Restart brings a killed part back; it returns once the part serves again.
	Restart(ctx context.Context, role, name string) error
	// Residue reports any part still killed, stopped or paused; nil when all serve.
	Residue(ctx context.Context) error
}
