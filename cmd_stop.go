package main

import "github.com/spf13/cobra"

func newStopCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "stop",
		Short:   "Shut the running VM down cleanly (QMP powerdown, then quit)",
		Example: "  cube-hal stop",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("stop", "launch (#6)")
		},
	}
}
