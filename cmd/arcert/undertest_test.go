package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuntimeChoiceRefusesContradictions: each contradictory set of flags is refused with the
// flag to drop or add named, and the usual choices pass.
func TestRuntimeChoiceRefusesContradictions(t *testing.T) {
	for _, tc := range []struct {
		choice runtimeChoice
		want   string // "" for none
	}{
		{runtimeChoice{embedded: true}, ""},
		{runtimeChoice{embedded: true, runtimeLog: "rt.log"}, ""},
		{runtimeChoice{target: "t.yaml"}, ""},
		{runtimeChoice{containers: true}, ""},
		{runtimeChoice{containers: true, embedded: true}, "choose one"},
		{runtimeChoice{embedded: true, target: "t.yaml"}, "drop --target"},
		{runtimeChoice{target: "t.yaml", variant: "x"}, "--variant needs --embedded"},
		{runtimeChoice{target: "t.yaml", runtimeLog: "rt.log"}, "--runtime-log needs --embedded"},
		{runtimeChoice{containers: true, runtimeLog: "rt.log"}, "--runtime-log needs --embedded"},
		{runtimeChoice{}, "--target FILE"},
	} {
		err := tc.choice.check()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v, want no error", tc.choice, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want an error with %q", tc.choice, err, tc.want)
		}
	}
}

func TestRuntimeLoggerWritesTheFileOrDiscards(t *testing.T) {
	log, closeLog, err := runtimeLogger("")
	if err != nil || log == nil {
		t.Fatalf("no path: %v", err)
	}
	closeLog()
	path := filepath.Join(t.TempDir(), "runtime.log")
	log, closeLog, err = runtimeLogger(path)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("worker healthy", "worker", "w1")
	log.Debug("not at info level")
	closeLog()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(raw); !strings.Contains(got, `msg="worker healthy" worker=w1`) || strings.Contains(got, "not at info") {
		t.Errorf("runtime log %q: want the info line only", got)
	}
	if _, _, err := runtimeLogger(filepath.Join(t.TempDir(), "no-such-dir", "rt.log")); err == nil || !strings.Contains(err.Error(), "--runtime-log") {
		t.Errorf("a log in a missing directory: %v, want an error naming --runtime-log", err)
	}
}
