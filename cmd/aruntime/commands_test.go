package main

import "testing"

// TestDataDefaultsAreEachCommandsOwn guards the flag binding: `aruntime up` keeps its durable
// default even though router and evidence define --data with an empty one.
func TestDataDefaultsAreEachCommandsOwn(t *testing.T) {
	want := map[string]string{"up": "aruntime-data", "router": "", "evidence": ""}
	root := rootCommand()
	for name, def := range want {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		fl := cmd.Flags().Lookup("data")
		if fl == nil {
			t.Fatalf("%s has no --data flag", name)
		}
		if fl.DefValue != def || fl.Value.String() != def {
			t.Errorf("%s --data: default %q, value %q; want %q", name, fl.DefValue, fl.Value.String(), def)
		}
	}
}
