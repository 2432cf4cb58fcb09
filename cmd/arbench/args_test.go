package main

import (
	"testing"
	"time"
)

// TestLoadgenArgsRoundTrip: what a run passes its load generator is what the load generator
// reads (a comment once swallowed -kind and -addr, and every child exited with "-addr is
// required").
func TestLoadgenArgsRoundTrip(t *testing.T) {
	s := settings{duration: 3 * time.Second, seed: 7, maxTokens: 5}
	p := benchPath{name: "router, gRPC", kind: kindRouter, addr: "127.0.0.1:4321"}
	args := loadgenArgs(s, p, 2500, 2)
	if args[0] != "loadgen" {
		t.Fatalf("args %v do not start with the loadgen subcommand", args)
	}
	f, err := parseLoadgen(args[1:])
	if err != nil {
		t.Fatal(err)
	}
	want := loadgenFlags{kind: kindRouter, addr: "127.0.0.1:4321", rate: 2500, duration: 3 * time.Second, seed: 9, maxTokens: 5, conns: 1024}
	if f != want {
		t.Errorf("loadgen read %+v, want %+v", f, want)
	}
}
