// Command arcert is the harness: `arcert certify` runs the conformance suites against a runtime
// described by its target file, `arcert catalog` prints the requirements, `arcert target
// validate` checks a target file, and `arcert probe` sends one request and prints the outcome
// contract as the runtime stated it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/api/openai"
	"github.com/aruntime/arcert/conformance/driver"
	"github.com/aruntime/arcert/internal/harnessgc"
)

// version is the harness version, stamped into reports.
const version = "0.1.0-dev"

func main() {
	harnessgc.Apply() // the collector an open-loop load needs; GOGC in the environment still wins
	if err := rootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "arcert:", err)
		if ee := (*exitError)(nil); errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

func rootCommand() *cobra.Command {
	root := &cobra.Command{Use: "arcert", Short: "Chaos and conformance harness for AI inference runtimes", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(&cobra.Command{
		Use: "version", Short: "Print the harness version", Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "arcert", version) },
	})
	root.AddCommand(probeCommand(), certifyCommand(), catalogCommand(), targetCommand(), evidenceCommand(), gamedayCommand())
	return root
}

type probeFlags struct {
	url, key, model, prompt string
	maxTokens               int64
	stream                  bool
	timeout                 time.Duration
}

func probeCommand() *cobra.Command {
	f := probeFlags{}
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Send one chat completion and print the outcome contract as the runtime stated it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			c := driver.New(f.url, driver.WithAPIKey(f.key))
			res, err := c.Do(ctx, driver.Call{Path: driver.PathChatCompletions, Body: openai.CompletionRequest{
				Model: f.model, Messages: []openai.ChatMessage{{Role: "user", Content: f.prompt}},
				MaxTokens: &f.maxTokens, Stream: f.stream,
			}})
			if err != nil {
				return err
			}
			out := map[string]any{
				"status": res.Status, "request_id": res.RequestID, "outcome": res.Outcome, "reason": res.Reason,
				"served_by": res.ServedBy.String(), "text": res.Text, "usage": res.Usage,
				"ttft_ms": res.TTFT.Seconds() * 1000, "latency_ms": res.Latency.Seconds() * 1000,
				"contract_violations": res.ContractViolations,
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				return err
			}
			if len(res.ContractViolations) > 0 {
				return fmt.Errorf("%d contract violations", len(res.ContractViolations))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.url, "url", "http://127.0.0.1:8080", "the runtime's HTTP base URL")
	cmd.Flags().StringVar(&f.key, "key", "dev-acme-key", "the bearer credential")
	cmd.Flags().StringVar(&f.model, "model", "arcert-sim-small", "the model")
	cmd.Flags().StringVar(&f.prompt, "prompt", "Say hello.", "the user message")
	cmd.Flags().Int64Var(&f.maxTokens, "max-tokens", 16, "max_tokens")
	cmd.Flags().BoolVar(&f.stream, "stream", false, "ask for an SSE stream")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this long")
	return cmd
}
