package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/plan"
	"github.com/aruntime/arcert/conformance/target"
)

func targetValidateCommand() *cobra.Command {
	var profiles []string
	return withProfiles(&cobra.Command{
		Use:   "validate FILE",
		Short: "Validate a target file and say what a certification can make of it",
		Long: `validate checks a target file; every mistake is printed as FILE:LINE: field: message. For a
valid file it then says, per profile, which requirements will run, which are NOT_SUPPORTED (a
feature not declared, or a field their judgement needs left out) and which are unjudgeable (they
would stop at a validity gate whatever the runtime does: too little quota for the load, no
operator key…), each with the reason.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := target.Load(args[0])
			if err != nil {
				return err
			}
			if err := featureConflicts(cmd.ErrOrStderr(), t); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			routers := ""
			if n := len(t.Endpoints.HTTPURLs()); n > 1 {
				routers = fmt.Sprintf(", %d routers taking requests in turn", n)
			}
			fmt.Fprintf(out, "%s: valid %s for %s (%d tenants, %d traffic classes%s, features: %s)\n",
				t.Source, target.APIVersion, t.Implementation, len(t.Tenants), len(t.TrafficClasses), routers, strings.Join(t.Features, ", "))
			return printPlan(out, catalog.MustLoad(), t, profiles)
		},
	}, &profiles)
}

// featureConflicts prints, as FILE: message, each declared feature that cannot be judged with
// the rest of the declaration (plan.Conflicts), and returns an exit-2 error when there is one.
func featureConflicts(w io.Writer, t *target.Target) error {
	conflicts := plan.Conflicts(catalog.MustLoad(), t)
	for _, c := range conflicts {
		fmt.Fprintf(w, "%s: %s\n", t.Source, c)
	}
	if len(conflicts) > 0 {
		return &exitError{code: exitInvalid, err: fmt.Errorf("%s: %d features cannot be judged with these declarations", t.Source, len(conflicts))}
	}
	return nil
}

func withProfiles(cmd *cobra.Command, profiles *[]string) *cobra.Command {
	cmd.Flags().StringArrayVar(profiles, "profile", nil, "only this profile (repeatable); default: every profile")
	return cmd
}

// printPlan prints the plan by profile: a row per requirement that will not simply run (or runs
// with a consequence of what the record leaves out), then the ids that run.
func printPlan(w io.Writer, c *catalog.Catalog, t *target.Target, profiles []string) error {
	if len(profiles) == 0 {
		for _, p := range c.Profiles {
			profiles = append(profiles, p.Name)
		}
	}
	items := plan.Of(c, t)
	for _, p := range profiles {
		if _, err := c.Profile(p); err != nil {
			return err
		}
		var mine []plan.Item
		for _, it := range items {
			if it.Profile == p {
				mine = append(mine, it)
			}
		}
		fmt.Fprintf(w, "\nprofile %s: %s\n", p, plan.Summary(mine))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		var plain []string
		for _, it := range mine {
			if it.Status == plan.Runs && it.Why == "" {
				plain = append(plain, it.ID)
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.ID, it.Level, it.Status, it.Why)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(plain) > 0 {
			fmt.Fprintf(w, "  runs: %s\n", strings.Join(plain, " "))
		}
	}
	fmt.Fprintln(w, "\nNOT_SUPPORTED requirements are reported, not failed; unjudgeable ones end INVALID or INCONCLUSIVE, and a MUST among them fails the profile.")
	return nil
}
