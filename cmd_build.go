package main

import "github.com/spf13/cobra"

func newBuildCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "build [TARGET...]",
		Short:   "Run Buildroot's make with live progress",
		Example: "  cube-hal build --jobs 8",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("build", "build runner (#5)")
		},
	}
}
