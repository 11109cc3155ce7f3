package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newStatusCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "Show the workspace and running VMs",
		Example: "  cube-hal status\n  cube-hal --buildroot ~/src/buildroot status",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			br := w.BuildrootDir
			if br == "" {
				br = "(none: standalone mode)"
			}
			fmt.Fprintf(out, "Buildroot:  %s\n", br)
			fmt.Fprintf(out, "Output:     %s\n", w.OutputDir)
			fmt.Fprintf(out, "External:   %s\n", w.ExternalDir)
			fmt.Fprintf(out, "Overlay:    %s\n", w.OverlayDir)
			fmt.Fprintf(out, "State:      %s\n", w.StateDir)
			for _, p := range w.Problems {
				fmt.Fprintf(out, "missing: %s: %s\n  fix: %s\n", p.What, p.Err, p.Fix)
			}
			return nil
		},
	}
}
