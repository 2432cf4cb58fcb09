package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/reference/artifact"
)

// errArtifactFlags means the artifact commands were given flags that
// cannot work together.
var errArtifactFlags = errors.New("artifact: invalid flags")

// artifactCommand is `aruntime artifact`: pushing model artifacts to an OCI
// registry, and verifying one as a worker would before applying it.
func artifactCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "artifact",
		Short: "Push and verify model artifacts in an OCI registry",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(artifactPushCommand(), artifactVerifyCommand())
	return cmd
}

// artifactPushCommand is `aruntime artifact push DIR`. It refuses a config
// a worker would refuse, so a mistake is caught at push rather than at
// rollout; --allow-invalid pushes it anyway, for negative fixtures.
func artifactPushCommand() *cobra.Command {
	var registry, repo string
	var allowInvalid bool
	cmd := &cobra.Command{
		Use:   "push DIR",
		Short: "Pack DIR (config.json, weights.bin, optional signing.key) and push it; prints the digest to pin",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := artifact.Pack(args[0])
			if err != nil {
				return err
			}
			if _, err := artifact.ParseConfig(p.Config); err != nil && !allowInvalid {
				return fmt.Errorf("%s: %w (a worker would refuse it; --allow-invalid pushes it anyway)", args[0], err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d, err := artifact.PushPacked(ctx, registry, repo, p)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), d)
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", "registry host:port (loopback registries are spoken to over plain HTTP)")
	cmd.Flags().StringVar(&repo, "repo", "", "repository, e.g. models/arcert-sim-small")
	cmd.Flags().BoolVar(&allowInvalid, "allow-invalid", false, "push even if config.json would be refused")
	_ = cmd.MarkFlagRequired("registry")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}

// artifactVerifyCommand is `aruntime artifact verify DIGEST`: the pull a
// worker does before applying, printing the verified model or why it is
// refused.
func artifactVerifyCommand() *cobra.Command {
	var registry, repo, publicKey string
	var requireSignature bool
	cmd := &cobra.Command{
		Use:   "verify DIGEST",
		Short: "Pull the artifact pinned by DIGEST and verify it as a worker would",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var policy artifact.Policy
			if publicKey != "" {
				k, err := artifact.LoadPublicKey(publicKey)
				if err != nil {
					return err
				}
				policy.PublicKey = k
			}
			if requireSignature && policy.PublicKey == nil {
				return fmt.Errorf("%w: --require-signature needs --public-key", errArtifactFlags)
			}
			policy.RequireSignature = requireSignature
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			m, err := artifact.Pull(ctx, registry, repo, args[0], policy)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(m)
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", "registry host:port")
	cmd.Flags().StringVar(&repo, "repo", "", "repository, e.g. models/arcert-sim-small")
	cmd.Flags().StringVar(&publicKey, "public-key", "", "ed25519 public key (PEM) signatures must verify with")
	cmd.Flags().BoolVar(&requireSignature, "require-signature", false, "refuse unsigned artifacts")
	_ = cmd.MarkFlagRequired("registry")
	_ = cmd.MarkFlagRequired("repo")
	return cmd
}
