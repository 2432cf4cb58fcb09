package fault

import "context"

// Leaders is a Nodes whose deployment runs a clustered state store and can tell which of its
// nodes (parts of role "state-store") leads a stream: node loss is proved on the leader, the node
// whose loss forces an election, not on a follower that no write waits for.
type Leaders interface {
	// StreamLeader names the state-store part that leads stream now.
	StreamLeader(ctx context.Context, stream string) (string, error)
	// StreamReplicas is how many nodes keep stream: 1 when it lives on one node alone, whose
	// loss no election can ride out.
	StreamReplicas(ctx context.Context, stream string) (int, error)
}

// NetworkCutter is a Nodes that can take a part off one named network of the deployment while it
// stays on its others (a router cut from the state store's network keeps serving its clients; a
// region's workers cut from the region's network are lost to every router), and put it back.
type NetworkCutter interface {
	// CutNetwork disconnects the part role/name from network (the deployment's name for it, as
	// the target's deployment section gives it).
	CutNetwork(ctx context.Context, role, name, network string) error
	// RestoreNetwork connects it again, with the aliases it had.
	RestoreNetwork(ctx context.Context, role, name, network string) error
}
