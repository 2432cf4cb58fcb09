// Package grpckeepalive holds the keepalive settings shared by the reference runtime's gRPC
// clients (router to worker, worker to shared cache) and the servers they dial.
//
// A part that stops answering without closing its connections (paused, cut off by a network
// that drops its packets, its host gone) leaves a connection that is open and silent: a process
// that dies closes its sockets, but a frozen one, or one behind a proxy that keeps the client's
// side open, does not. Every call on it times out, health polls included, and gRPC, which redials
// only a connection that failed, never redials this one, even once the part answers again on a
// new connection. With keepalive the client pings a connection that has received nothing for
// Time, closes it when the ping goes unanswered for Timeout, and dials again.
package grpckeepalive

import (
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

const (
	// Time is how long a connection may receive nothing before the client pings it: gRPC's floor
	// for the client's interval. A connection with calls answered now and then never pings.
	Time = 10 * time.Second
	// Timeout is how long the ping may go unanswered before the connection is closed.
	Timeout = 2 * time.Second
	// minTime is the shortest interval between a client's pings the servers accept; gRPC's
	// default, 5 minutes, would answer pings every Time with a GOAWAY (too_many_pings).
	minTime = 5 * time.Second
)

// DialOption makes a client ping a silent connection and redial it when the ping goes unanswered.
func DialOption() grpc.DialOption {
	return grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: Time, Timeout: Timeout, PermitWithoutStream: true})
}

// ServerOption lets clients using DialOption ping as often as it does.
func ServerOption() grpc.ServerOption {
	return grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: minTime, PermitWithoutStream: true})
}
