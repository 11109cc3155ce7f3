package main

import "github.com/spf13/cobra"

func newDoctorCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "doctor",
		Short:   "Check this host for building and launching the image",
		Example: "  cube-hal doctor --json",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("doctor", "skeleton (#2)")
		},
	}
}
