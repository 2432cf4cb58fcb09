package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aruntime/arcert/api/discovery"
)

// aruntimeBin builds the binary once per test run.
func aruntimeBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "aruntime")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// process is one running `aruntime up`.
type process struct {
	cmd  *exec.Cmd
	http string
}

// up starts `aruntime up --data dir` on free ports and reads the HTTP address from the topology
// it prints.
func up(t *testing.T, bin, dir string) *process {
	t.Helper()
	cmd := exec.Command(bin, "up", "--data", dir, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	var js strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if js.Len() > 0 || strings.HasPrefix(line, "{") {
			js.WriteString(line)
			if line == "}" {
				break
			}
		}
	}
	var topo struct{ HTTP string }
	if err := json.Unmarshal([]byte(js.String()), &topo); err != nil || topo.HTTP == "" {
		t.Fatalf("no topology from aruntime up: %v %q", err, js.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	p.http = "http://" + topo.HTTP
	return p
}

func (p *process) do(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.http+path, rd)
	req.Header.Set("Authorization", "Bearer dev-acme-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type batchState struct {
	ID     string                                 `json:"id"`
	Status string                                 `json:"status"`
	Counts struct{ Total, Completed, Failed int } `json:"request_counts"`
	Output []struct {
		CustomID string `json:"custom_id"`
		Response struct {
			RequestID  string `json:"request_id"`
			StatusCode int    `json:"status_code"`
			Outcome    string `json:"outcome"`
			Reason     string `json:"reason"`
		} `json:"response"`
	} `json:"output"`
}

// TestSIGKILLLosesNoAcceptedJob kills `aruntime up` with SIGKILL while batch jobs are queued and
// running, starts it again on the same data directory, and checks that every accepted job
// completes exactly once.
func TestSIGKILLLosesNoAcceptedJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the runtime as a process")
	}
	bin, dir := aruntimeBin(t), t.TempDir()
	first := up(t, bin, dir)
	var ids []string
	for b := range 3 {
		var reqs []map[string]any
		for i := range 10 {
			reqs = append(reqs, map[string]any{"custom_id": fmt.Sprintf("b%d-j%d", b, i), "body": map[string]any{
				"model": "arcert-sim-small", "max_tokens": 60, "messages": []map[string]string{{"role": "user", "content": fmt.Sprintf("job %d of batch %d", i, b)}}}})
		}
		status, body := first.do(t, http.MethodPost, "/v1/batches", map[string]any{"endpoint": "/v1/chat/completions", "requests": reqs})
		var st batchState
		if status != http.StatusOK || json.Unmarshal(body, &st) != nil {
			t.Fatalf("submit: %d %s", status, body)
		}
		ids = append(ids, st.ID)
	}
	// Kill while work is in flight: some jobs done, some running, most queued.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, body := first.do(t, http.MethodGet, "/v1/batches/"+ids[0], nil)
		var st batchState
		_ = json.Unmarshal(body, &st)
		if st.Counts.Completed > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	second := up(t, bin, dir)
	deadline = time.Now().Add(60 * time.Second)
	for _, id := range ids {
		var st batchState
		for time.Now().Before(deadline) {
			_, body := second.do(t, http.MethodGet, "/v1/batches/"+id, nil)
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("%s: %s", id, body)
			}
			if st.Status == "completed" {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if st.Status != "completed" || st.Counts.Completed != 10 || len(st.Output) != 10 {
			for _, o := range st.Output {
				if o.Response.StatusCode != http.StatusOK {
					t.Logf("job %s ended %d %s/%s (%s)", o.CustomID, o.Response.StatusCode, o.Response.Outcome, o.Response.Reason, o.Response.RequestID)
				}
			}
			t.Fatalf("batch %s after the crash: %d of %d completed, status %s", id, st.Counts.Completed, st.Counts.Total, st.Status)
		}
		seen := map[string]bool{}
		for _, o := range st.Output {
			if seen[o.CustomID] {
				t.Fatalf("job %s completed twice", o.CustomID)
			}
			seen[o.CustomID] = true
			// A job cut off by the kill ran again, so it may honestly have two records; none may
			// have none: its result is stored only after its evidence was acknowledged.
			// Evidence acknowledged before the kill is chained after the restart: wait for it.
			var list discovery.EvidenceList
			var body []byte
			for end := time.Now().Add(30 * time.Second); len(list.Records) == 0 && time.Now().Before(end); {
				_, body = second.do(t, http.MethodGet, "/v1/aruntime/evidence?request_id="+o.Response.RequestID, nil)
				if err := json.Unmarshal(body, &list); err != nil {
					t.Fatalf("evidence of %s: %s", o.CustomID, body)
				}
				if len(list.Records) == 0 {
					time.Sleep(50 * time.Millisecond)
				}
			}
			if len(list.Records) == 0 {
				t.Fatalf("job %s (%s) has no evidence record after the crash: %s", o.CustomID, o.Response.RequestID, body)
			}
		}
	}
	var all []discovery.Record
	for since := uint64(0); ; {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v1/aruntime/evidence?since=%d&limit=1000", second.http, since), nil)
		req.Header.Set("Authorization", "Bearer dev-operator-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page discovery.EvidenceList
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Records...)
		if len(page.Records) < 1000 {
			break
		}
		since = page.Records[len(page.Records)-1].Seq
	}
	if err := discovery.VerifyChain(all); err != nil || len(all) < 30 {
		t.Fatalf("evidence chain of %d records after the crash: %v", len(all), err)
	}
}
