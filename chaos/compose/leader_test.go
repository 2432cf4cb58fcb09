package compose

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// monitor serves a NATS node's /varz and /jsz as nats-server does: server_name, and each stream
// this node holds with the server that leads it.
func monitor(t *testing.T, serverName, jsz string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/varz":
			_, _ = w.Write([]byte(`{"server_name": "` + serverName + `"}`))
		case r.URL.Path == "/jsz" && r.URL.Query().Get("streams") == "true":
			_, _ = w.Write([]byte(jsz))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// TestStreamLeaderNamesThePartOfTheLeadingServer: the leader is read from the first node that
// answers, a node that is down is skipped, and the server name is mapped to its part (node
// names and server names differ here on purpose).
func TestStreamLeaderNamesThePartOfTheLeadingServer(t *testing.T) {
	jsz := `{"account_details": [{"name": "$G", "stream_detail": [
		{"name": "OTHER", "cluster": {"leader": "srv-a"}},
		{"name": "EVIDENCE_IN", "cluster": {"leader": "srv-c"}}]}]}`
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	d := &Deployment{o: Options{
		Parts:   map[string][]string{"state-store": {"n1", "n2", "n3"}},
		Monitor: map[string]string{"n1": down.URL, "n2": monitor(t, "srv-b", jsz), "n3": monitor(t, "srv-c", jsz)},
	}, http: http.DefaultClient, serverNames: map[string]string{}}
	got, err := d.StreamLeader(context.Background(), "EVIDENCE_IN")
	if err != nil || got != "n3" {
		t.Fatalf("leader of EVIDENCE_IN: %q, %v; want n3", got, err)
	}
	if got, err := d.StreamLeader(context.Background(), "OTHER"); err == nil {
		t.Fatalf("leader srv-a runs on no part, yet got %q", got)
	}
	_, err = d.StreamLeader(context.Background(), "MISSING")
	if err == nil || !strings.Contains(err.Error(), "MISSING") || !strings.Contains(err.Error(), "n1") || !strings.Contains(err.Error(), "no leader there") {
		t.Fatalf("unknown stream: %v; want an error naming the stream and what each node said", err)
	}
}

// TestStreamReplicasCountsTheLeaderAndItsFollowers: three replicas are the leader and two
// followers; a stream kept on one node reports no followers, and is one replica.
func TestStreamReplicasCountsTheLeaderAndItsFollowers(t *testing.T) {
	jsz := `{"account_details": [{"name": "$G", "stream_detail": [
		{"name": "THREE", "cluster": {"leader": "srv-a", "replicas": [{"name": "srv-b"}, {"name": "srv-c"}]}},
		{"name": "ONE", "cluster": {"leader": "srv-a"}}]}]}`
	d := &Deployment{o: Options{
		Parts:   map[string][]string{"state-store": {"n1"}},
		Monitor: map[string]string{"n1": monitor(t, "srv-a", jsz)},
	}, http: http.DefaultClient, serverNames: map[string]string{}}
	for stream, want := range map[string]int{"THREE": 3, "ONE": 1} {
		if got, err := d.StreamReplicas(context.Background(), stream); err != nil || got != want {
			t.Errorf("replicas of %s: %d, %v; want %d", stream, got, err, want)
		}
	}
	if _, err := d.StreamReplicas(context.Background(), "MISSING"); err == nil || !strings.Contains(err.Error(), "MISSING") {
		t.Errorf("unknown stream: %v; want an error naming it", err)
	}
}
