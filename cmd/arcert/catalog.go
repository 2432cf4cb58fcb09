package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aruntime/arcert/conformance/catalog"
	"github.com/aruntime/arcert/conformance/target"
)

func catalogCommand() *cobra.Command {
	var asJSON bool
	var profile string
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Print the requirement catalogue",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := catalog.MustLoad()
			out := *c
			if profile != "" {
				if _, err := c.Profile(profile); err != nil {
					return err
				}
				out.Requirements = c.InProfiles(profile)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tLEVEL\tPROFILE\tFEATURE\tLINE\tTITLE")
			for _, r := range out.Requirements {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", r.ID, r.Level, r.Profile, r.Feature, r.Line, r.Title)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d requirements. Profiles:", len(out.Requirements))
			for _, p := range c.Profiles {
				fmt.Fprintf(cmd.OutOrStdout(), " %s (%s)", p.Name, p.Status)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&profile, "profile", "", "only this profile's requirements")
	return cmd
}

func targetCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "target", Short: "Work with target files (Runtime Decision Records)"}
	cmd.AddCommand(targetValidateCommand(), targetInitCommand(), &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of target files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(target.SchemaJSON())
			return err
		},
	})
	return cmd
}
