package readmecheck

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const readme = "# x\n" +
		"```sh\necho run\n```\n" +
		"<!-- readme-test: skip (takes minutes) -->\n\n" +
		"```sh\nmake certify\n```\n" +
		"<!-- readme-test: expect rejected/unauthenticated, shed/queue_full -->\n" +
		"```bash\ncurl x\n```\n" +
		"```text\ndiagram\n```\n"
	blocks, err := Parse(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{Line: 2, Language: "sh", Script: "echo run\n"},
		{Line: 7, Language: "sh", Script: "make certify\n", Skip: "takes minutes"},
		{Line: 11, Language: "bash", Script: "curl x\n", Expect: []string{"rejected/unauthenticated", "shed/queue_full"}},
		{Line: 14, Language: "text", Script: "diagram\n"},
	}
	if !reflect.DeepEqual(blocks, want) {
		t.Fatalf("got %+v\nwant %+v", blocks, want)
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, readme, want string }{
		{"fence without language", "a\n```\nls\n```\n", "README.md:2: a fence without a language"},
		{"unclosed fence", "```sh\nls\n", "README.md:1: the fence is never closed"},
		{"skip without reason", "<!-- readme-test: skip () -->\n```sh\nls\n```\n", "README.md:1: readme-test marker"},
		{"unknown marker", "<!-- readme-test: maybe -->\n```sh\nls\n```\n", `README.md:1: readme-test marker "maybe"`},
		{"marker before prose", "<!-- readme-test: skip (x) -->\ntext\n```sh\nls\n```\n", "README.md:1: the readme-test marker is not followed by a fenced block"},
		{"marker at the end", "<!-- readme-test: skip (x) -->\n", "README.md:1: the readme-test marker is not followed"},
		{"marker on a text block", "<!-- readme-test: skip (x) -->\n```text\nls\n```\n", "README.md:1: a readme-test marker on a text block"},
		{"two markers", "<!-- readme-test: skip (x) -->\n<!-- readme-test: skip (y) -->\n```sh\nls\n```\n", "README.md:2: two readme-test markers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.readme)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error starting %q", err, tc.want)
			}
		})
	}
}

func TestOutcomes(t *testing.T) {
	dump := "HTTP/1.1 200 OK\r\nAruntime-Outcome: completed\r\nAruntime-Outcome-Reason: none\r\n\r\n" +
		"HTTP/1.1 400 Bad Request\r\nAruntime-Outcome: rejected\r\nAruntime-Outcome-Reason: invalid_request\r\n\r\n"
	if got, want := Headers(dump), []Outcome{{"completed", "none"}, {"rejected", "invalid_request"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Headers: got %v, want %v", got, want)
	}
	out := "{\n  \"latency_ms\": 1,\n  \"outcome\": \"rejected\",\n  \"reason\": \"unauthenticated\",\n  \"usage\": {}\n}\n" +
		`{"id":"x","aruntime_outcome":{"class":"shed","reason":"queue_full","served_by":{}}}`
	if got, want := Output(out), []Outcome{{"rejected", "unauthenticated"}, {"shed", "queue_full"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Output: got %v, want %v", got, want)
	}
}

func TestJudge(t *testing.T) {
	served := Outcome{"completed", "none"}
	refused := Outcome{"rejected", "invalid_request"}
	for _, tc := range []struct {
		name     string
		outcomes []Outcome
		expect   []string
		want     string
	}{
		{"served", []Outcome{served, {"rerouted", "region_failover"}}, nil, ""},
		{"refusal not shown", []Outcome{served, refused, refused}, nil, "refused where the README shows no refusal: rejected/invalid_request"},
		{"refusal shown", []Outcome{refused}, []string{"rejected/invalid_request"}, ""},
		{"shown refusal missing", []Outcome{served}, []string{"rejected/invalid_request"}, "the README marks this block as answered rejected/invalid_request, which it was not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := judge(tc.outcomes, tc.expect); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
