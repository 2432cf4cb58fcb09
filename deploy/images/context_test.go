package images

import (
	"bytes"
	"strings"
	"testing"
)

// TestReadBuildPrintsSteps: each step of the engine's stream is printed as it starts, and a
// failure carries the builder's error and its last lines.
func TestReadBuildPrintsSteps(t *testing.T) {
	stream := `{"stream":"Step 1/3 : FROM scratch\n"}
{"stream":" ---> abc\n"}
{"stream":"Step 2/3 : COPY aruntime /aruntime\n"}
{"stream":"Step 3/3 : ENTRYPOINT [\"/aruntime\"]\n"}
`
	var log bytes.Buffer
	if err := readBuild(strings.NewReader(stream), &log, "arcert/aruntime:dev"); err != nil {
		t.Fatal(err)
	}
	want := "images: arcert/aruntime:dev: Step 1/3 : FROM scratch\nimages: arcert/aruntime:dev: Step 2/3 : COPY aruntime /aruntime\nimages: arcert/aruntime:dev: Step 3/3 : ENTRYPOINT [\"/aruntime\"]\n"
	if log.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", log.String(), want)
	}
	err := readBuild(strings.NewReader(stream+`{"error":"COPY failed: no such file"}`+"\n"), &bytes.Buffer{}, "x")
	if err == nil || !strings.Contains(err.Error(), "COPY failed") || !strings.Contains(err.Error(), "Step 3/3") {
		t.Fatalf("error %v", err)
	}
}
