package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/reference/evidence"
)

// evidenceCommand groups the commands that inspect a runtime's durable evidence.
func evidenceCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "evidence", Short: "Inspect a runtime's durable evidence"}
	cmd.AddCommand(evidenceVerifyCommand())
	return cmd
}

type evidenceVerifyFlags struct {
	url     string
	timeout time.Duration
	asJSON  bool
}

// evidenceVerifyCommand reads the whole evidence chain from JetStream and checks it, for an
// operator or a CI job asking whether evidence was lost or altered. It exits non-zero on a gap
// or a broken link, so it can gate a game day's residue check.
func evidenceVerifyCommand() *cobra.Command {
	f := evidenceVerifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the evidence chain: every record present, in order, linked and unaltered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			// A plain connection, not the runtime's retry-forever one: an unreachable server
			// is an answer here, not something to wait out.
			nc, err := nats.Connect(f.url, nats.Name("arcert-evidence-verify"), nats.Timeout(f.timeout))
			if err != nil {
				return fmt.Errorf("evidence verify: connect %s: %w", f.url, err)
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err != nil {
				return fmt.Errorf("evidence verify: %w", err)
			}
			rep, err := evidence.VerifyStream(ctx, js)
			if err != nil {
				return err
			}
			if f.asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printVerifyReport(cmd.OutOrStdout(), rep)
			}
			return rep.Err()
		},
	}
	cmd.Flags().StringVar(&f.url, "nats", nats.DefaultURL, "the NATS server holding the evidence streams")
	cmd.Flags().DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long (reading a long chain takes a while)")
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	return cmd
}

// printVerifyReport prints the report for a person.
func printVerifyReport(w io.Writer, rep evidence.VerifyReport) {
	fmt.Fprintf(w, "stream %s: %d records", evidence.ChainStream, rep.Records)
	if rep.Records > 0 {
		fmt.Fprintf(w, ", seq %d to %d", rep.FirstSeq, rep.LastSeq)
	}
	fmt.Fprintf(w, " (stream last seq %d)\n", rep.StreamLastSeq)
	if len(rep.Gaps) == 0 {
		fmt.Fprintln(w, "gaps: none")
	} else {
		fmt.Fprintf(w, "gaps: %d\n", len(rep.Gaps))
		for _, g := range rep.Gaps {
			fmt.Fprintf(w, "  seq %d to %d missing (%d records)\n", g.From, g.To, g.To-g.From+1)
		}
	}
	if rep.Broken == 0 {
		fmt.Fprintln(w, "broken links: none")
	} else {
		fmt.Fprintf(w, "broken records: %d; first: %s\n", rep.Broken, rep.FirstBroken)
	}
	if rep.Err() == nil {
		fmt.Fprintln(w, "OK: the chain is whole and unaltered")
	}
}
