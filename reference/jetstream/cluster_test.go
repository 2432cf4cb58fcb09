package jetstream_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/aruntime/arcert/reference/batch"
	"github.com/aruntime/arcert/reference/control"
	"github.com/aruntime/arcert/reference/evidence"
	"github.com/aruntime/arcert/reference/jetstream"
)

// TestReplicatedOnACluster: on a three-node cluster (routes on loopback, as deploy/compose runs
// it in containers) every stream and key-value bucket the runtime creates, given durable.replicas
// 3, is kept by three servers: a leader and two current followers.
func TestReplicatedOnACluster(t *testing.T) {
	url := startCluster(t, 3)
	nc, js, err := jetstream.Connect(url, "replicas-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The first stream waits for the cluster's meta leader; retry until it is elected.
	for ctx.Err() == nil {
		actx, acancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = control.Open(actx, js, 3)
		acancel()
		if err == nil {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("control plane on the cluster: %v", err)
	}
	if _, err := batch.Open(ctx, js, batch.Options{Capacity: 10, MaxRequests: 10, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if err := evidence.EnsureStreams(ctx, js, 3); err != nil {
		t.Fatal(err)
	}
	names := js.StreamNames(ctx)
	n, approvals := 0, false
	for name := range names.Name() {
		n++
		// The held rollouts' bucket: approval state must outlive a node like every other state.
		approvals = approvals || name == "KV_aruntime_control_"+control.BucketApprovals
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info := st.CachedInfo()
		if info.Config.Replicas != 3 || info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			t.Errorf("stream %s: %d replicas configured, cluster %+v; want 3 (a leader and 2 peers)", name, info.Config.Replicas, info.Cluster)
		}
		// A direct get may be answered by a follower behind the leader: a read right after a
		// write could miss it.
		if info.Config.AllowDirect {
			t.Errorf("stream %s allows direct gets on 3 replicas; reads must go to the leader", name)
		}
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	if !approvals {
		t.Errorf("no stream of the control plane's %s bucket on the cluster", control.BucketApprovals)
	}
	// control's buckets (approvals among them), batch's jobs stream and three buckets, evidence's
	// two streams.
	if want := len(control.Buckets) + 4 + 2; n != want {
		t.Fatalf("%d streams on the cluster, want %d", n, want)
	}
}

// startCluster starts n JetStream servers routed to each other on loopback and returns a client
// URL naming them all.
func startCluster(t *testing.T, n int) string {
	t.Helper()
	routes := make([]int, n)
	for i := range routes {
		routes[i] = freePort(t)
	}
	url := ""
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoSigs:     true,
			NoLog:      true,
			Cluster:    server.ClusterOpts{Name: "arcert-test", Host: "127.0.0.1", Port: routes[i]},
		}
		for _, p := range routes {
			opts.Routes = append(opts.Routes, server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d", p))...)
		}
		ns, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatalf("server %s not ready", opts.ServerName)
		}
		if url != "" {
			url += ","
		}
		url += ns.ClientURL()
	}
	return url
}

// freePort returns a loopback port free a moment ago, for a route listener.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
