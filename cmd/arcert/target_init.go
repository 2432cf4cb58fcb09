package main

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/api/discovery"
	"github.com/aruntime/arcert/conformance/target"
)

func targetInitCommand() *cobra.Command {
	var keys []string
	var out string
	cmd := &cobra.Command{
		Use:   "init --url URL [--key K]... [-o FILE]",
		Short: "Probe a runtime and write a commented starting target for it",
		Long: `init asks the runtime at --url for its models, one chat completion and one stream, and presents
a key it was never given. From the answers it writes a target file that ` + "`arcert target validate`" + `
accepts: whether the runtime states ARuntime outcomes or they must be inferred, whether it
streams, whether its keys bind callers (an unknown key refused) and whether prefix-cache hits
show in usage. What only you know (capacity, classes, quotas, a second tenant's key) is marked
TODO, with what leaving it out costs. Give each tenant's key with --key, first one first: the
probe calls as the first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := baseURL(cmd.Flag("url").Value.String())
			if err != nil {
				return err
			}
			first := ""
			if len(keys) > 0 {
				first = keys[0]
			}
			facts, err := probeRuntime(cmd.Context(), &http.Client{}, base, first)
			if err != nil {
				return err
			}
			text := initTarget(facts, keys, time.Now())
			if _, err := target.Parse("generated target", []byte(text)); err != nil {
				return fmt.Errorf("arcert wrote a target it does not accept itself (a bug): %w", err)
			}
			if out == "" || out == "-" {
				_, err = fmt.Fprint(cmd.OutOrStdout(), text)
				return err
			}
			if err := os.WriteFile(out, []byte(text), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "arcert: wrote %s; fill in its TODOs, then run: arcert target validate %s\n", out, out)
			return nil
		},
	}
	cmd.Flags().String("url", "", "base URL of the runtime's OpenAI-compatible API, e.g. http://127.0.0.1:11434")
	cmd.Flags().StringArrayVar(&keys, "key", nil, "a tenant's API key (repeatable; the first is used to probe)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the target here (default: standard output)")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

// baseURL is scheme://host[:port] of raw, which may end in /v1: the form endpoints.http takes.
func baseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--url %q is not an http(s) URL like http://127.0.0.1:11434", raw)
	}
	if p := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/v1"); p != "" {
		return "", fmt.Errorf("--url %q has a path (%s): give the base the runtime serves /v1/... under", raw, p)
	}
	return u.Scheme + "://" + u.Host, nil
}

// initTarget writes the starting target for what the probe found. Every line it cannot know is
// a TODO with the consequence of leaving it as it is.
func initTarget(f *runtimeFacts, keys []string, now time.Time) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# A starting Runtime Decision Record for the runtime at %s, written by `arcert target init`", f.URL)
	w("# on %s. What the probe found:", now.UTC().Format(time.RFC3339))
	for _, line := range findings(f) {
		w("#   - %s", line)
	}
	w("# Every TODO is something only you know. Then run `arcert target validate FILE`: it says which")
	w("# requirements will run, which are NOT_SUPPORTED and which cannot be judged with these declarations.")
	w("apiVersion: %s", target.APIVersion)
	w("kind: RuntimeDecisionRecord")
	w("implementation: %s   # TODO: the runtime's name and version, printed in reports", implementationGuess(f))
	w("endpoints:")
	w("  http: %s", f.URL)
	w("  # grpc: host:port   # TODO: only if the runtime serves arcert.v1.Inference")
	w("  # more: [{http: http://host2:port}]   # TODO: further routers, if it runs several: requests take turns")
	features, left := initFeatures(f, keys)
	w("features: [%s]", strings.Join(features, ", "))
	for _, l := range left {
		w("# %s", l)
	}
	w("contract:")
	if f.Stated {
		w("  outcomes: stated     # the completion carried %s: the runtime is held to the whole contract", "ARuntime-Outcome")
	} else {
		w("  outcomes: inferred   # no ARuntime-Outcome header: outcomes are inferred from status, error body and finish_reason")
		w("  # map: [{status: 503, code: overloaded, outcome: shed/capacity}]   # TODO: your runtime's documented errors, if any")
	}
	w("# pins: {runtime_version: ..., policy_version: ...}   # without them the versions requirements are NOT_SUPPORTED")
	w("models:")
	for i, m := range f.Models {
		w("  - name: %s", m.ID)
		if m.MaxModelLen > 0 {
			w("    context_length: %d   # the model listing's max_model_len", m.MaxModelLen)
		} else {
			w("    context_length: 2048   # TODO: the context the runtime serves this model with (not in its listing)")
		}
		if i == 0 {
			w("    # max_output_tokens, artifact_digest, prices: optional; `target validate` says what each enables")
		}
	}
	rps := math.Max(1, math.Floor(1/math.Max(f.Latency.Seconds(), 0.001)))
	w("capacity:   # TODO: measure these; the admission and quota requirements load the runtime against them")
	w("  concurrency: 1   # TODO: requests it runs at once (for Ollama, OLLAMA_NUM_PARALLEL)")
	w("  requests_per_second: %.0f   # TODO: one completion of 8 tokens took %s; sustained rate of such requests", rps, f.Latency.Round(time.Millisecond))
	w("  probe_max_tokens: 8")
	w("traffic_classes:   # a runtime without classes has one; deadline and objectives are optional")
	w("  - {name: default, queue_bound: 0}   # TODO: a class name the runtime accepts (any, if it has no classes); queue_bound: how many wait beyond concurrency before it sheds")
	w("tenants:   # quotas and data_policy are optional: without them the quota and region requirements are NOT_SUPPORTED")
	for i, k := range tenantKeys(f, keys) {
		w("  - name: tenant-%c   # TODO: the name the runtime records this caller by, if it records any (TEN-1 compares them)", 'a'+i)
		w("    key: %s", k)
		w("    traffic_classes: [default]")
	}
	w("# operator: {key: ...}   # TODO: an operator credential, if the runtime has one (ID-1, ID-3)")
	w("# workload: {key: ...}   # TODO: a worker credential, if the runtime has one (ID-2)")
	w("# locations and placement: the record's own documentation (DOC-1, QUO-4 fail without them); see")
	w("# fixtures/targets/example-openai-compatible.yaml for their shape.")
	return b.String()
}

// findings are the probe's answers, for the file's header.
func findings(f *runtimeFacts) []string {
	names := make([]string, len(f.Models))
	for i, m := range f.Models {
		names[i] = m.ID
	}
	out := []string{fmt.Sprintf("models: %s; a completion of %s took %s", strings.Join(names, ", "), f.Model, f.Latency.Round(time.Millisecond))}
	if f.Stated {
		out = append(out, "it states ARuntime outcomes (the ARuntime-Outcome header)")
	} else {
		out = append(out, "it does not state ARuntime outcomes: they will be inferred, and marked so")
	}
	switch {
	case f.Streams:
		out = append(out, "it streams (data events, then [DONE])")
	default:
		out = append(out, "its stream did not work: "+f.StreamWhy)
	}
	switch {
	case f.Cached:
		out = append(out, "usage reports cached prompt tokens: prefix-cache hits are observable")
	case f.Usage:
		out = append(out, "usage reports no cached prompt tokens: a prefix cache can be judged by timing only")
	default:
		out = append(out, "the completion reported no usage")
	}
	if f.UnknownRefused {
		out = append(out, fmt.Sprintf("a key it was never given was refused (%d): keys bind callers", f.UnknownStatus))
	} else {
		out = append(out, fmt.Sprintf("a key it was never given was served (status %d): any key is accepted, so tenants cannot be told apart by key", f.UnknownStatus))
	}
	return out
}

func implementationGuess(f *runtimeFacts) string {
	if u, err := url.Parse(f.URL); err == nil && strings.HasSuffix(u.Host, ":11434") {
		return "ollama"
	}
	return "openai-compatible-runtime"
}

// initFeatures are the features the probe supports declaring, and comment lines for the ones it
// leaves out and why.
func initFeatures(f *runtimeFacts, keys []string) (features, left []string) {
	features = []string{"outcomes"}
	if f.Streams {
		features = append(features, "streaming")
	} else {
		left = append(left, "streaming: not declared, its stream did not work ("+f.StreamWhy+")")
	}
	switch {
	case f.UnknownRefused && len(keys) >= 2 && f.Evidence:
		features = append(features, "tenant-binding", "evidence")
	case f.UnknownRefused && len(keys) >= 2:
		left = append(left, "tenant-binding: not declared, the runtime has no evidence endpoint ("+discovery.PathEvidence+") in which TEN-1 could see who a request was bound to")
	case f.UnknownRefused:
		left = append(left, "tenant-binding: TODO, declare it once a second tenant's key replaces the TODO below")
	default:
		left = append(left, "tenant-binding: not declared, the runtime accepted a key it was never given")
	}
	if f.Cached && len(keys) >= 2 && f.UnknownRefused {
		features = append(features, "prefix-cache")
	} else {
		left = append(left, "prefix-cache: TODO, declare it if the runtime caches prompt prefixes and two tenants' keys are given (TEN-2, TEN-3)")
	}
	left = append(left, "admission, traffic-classes, quotas: TODO, declare them once capacity, classes and quotas below are measured")
	return features, left
}

// tenantKeys are the tenants' keys: the ones given, then placeholders. A runtime that accepts any
// key gets distinct made-up keys; one that refuses unknown keys gets a TODO the user must replace.
func tenantKeys(f *runtimeFacts, keys []string) []string {
	out := append([]string(nil), keys...)
	for len(out) < 2 {
		switch {
		case !f.UnknownRefused:
			out = append(out, fmt.Sprintf("any-key-tenant-%c   # the runtime accepts any key", 'a'+len(out)))
		default:
			out = append(out, fmt.Sprintf("TODO-KEY-OF-TENANT-%c   # TODO: a second key the runtime accepts", 'A'+len(out)))
		}
	}
	return out
}
