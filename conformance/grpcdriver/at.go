package grpcdriver

// At returns a Client for router i of those New was given alone (addr is 0), sharing this one's
// connection: for a check that must send to one router (the one a fault cut off), as the HTTP
// driver's Client.At does. Close the original, not this one. It panics when i is out of range,
// a harness bug.
func (c *Client) At(i int) *Client {
	return &Client{routes: c.routes[i : i+1]}
}

// Len is how many routers the Client spreads its calls over.
func (c *Client) Len() int { return len(c.routes) }
