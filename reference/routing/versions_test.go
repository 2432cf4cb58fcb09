package routing

import (
	"errors"
	"net"
	"testing"
)

func TestVersionsAsksEveryWorker(t *testing.T) {
	a, _ := startWorker(t, "wa", 4, "m")
	b, _ := startWorker(t, "wb", 4, "m", "m2")
	// A port nothing listens on: the worker is reported with its error.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := lis.Addr().String()
	_ = lis.Close()
	p := newPool(t, Options{Endpoints: []Endpoint{
		{ID: "wa", Address: a, Models: []string{"m"}},
		{ID: "dead", Address: dead, Models: []string{"m"}},
		{ID: "wb", Address: b, Models: []string{"m", "m2"}},
	}})
	vs := p.Versions(t.Context())
	if len(vs) != 3 {
		t.Fatalf("got %d answers, want 3", len(vs))
	}
	for i, want := range []string{"wa", "dead", "wb"} {
		if vs[i].Worker.ID != want {
			t.Errorf("answer %d is from %s, want %s (configuration order)", i, vs[i].Worker.ID, want)
		}
	}
	if vs[1].Err == nil || vs[1].Resp != nil {
		t.Errorf("unreachable worker: %v, %v; want an error", vs[1].Resp, vs[1].Err)
	}
	for _, v := range []WorkerVersion{vs[0], vs[2]} {
		if v.Err != nil {
			t.Fatalf("%s: %v", v.Worker.ID, v.Err)
		}
		if v.Resp.GetWorker() != v.Worker.ID || len(v.Resp.GetArtifacts()) != len(v.Worker.Models) {
			t.Errorf("%s answered %v", v.Worker.ID, v.Resp)
		}
		for _, art := range v.Resp.GetArtifacts() {
			if want := "sha256:" + art.GetModel() + "-" + v.Worker.ID; art.GetDigest() != want {
				t.Errorf("%s artifact %s = %s, want %s", v.Worker.ID, art.GetModel(), art.GetDigest(), want)
			}
		}
	}
}

func TestNewValidatesOptions(t *testing.T) {
	ep := func(id string) Endpoint { return Endpoint{ID: id, Address: "127.0.0.1:1", Models: []string{"m"}} }
	tests := map[string]Options{
		"no token":          {Endpoints: []Endpoint{ep("a")}},
		"negative interval": {Endpoints: []Endpoint{ep("a")}, Token: "t", HealthInterval: -1},
		"negative slack":    {Endpoints: []Endpoint{ep("a")}, Token: "t", AffinitySlack: -1},
		"duplicate id":      {Endpoints: []Endpoint{ep("a"), ep("a")}, Token: "t"},
		"no id":             {Endpoints: []Endpoint{ep("")}, Token: "t"},
		"no address":        {Endpoints: []Endpoint{{ID: "a", Models: []string{"m"}}}, Token: "t"},
		"no models":         {Endpoints: []Endpoint{{ID: "a", Address: "127.0.0.1:1"}}, Token: "t"},
	}
	for name, o := range tests {
		o.Logger = discard
		if p, err := New(o); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: New = %v, want ErrOptions", name, err)
			if p != nil {
				_ = p.Close()
			}
		}
	}
	p, err := New(Options{Endpoints: []Endpoint{ep("a"), ep("b")}, Token: "t", Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	if p.interval != DefaultHealthInterval {
		t.Errorf("interval = %v, want the default", p.interval)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}
