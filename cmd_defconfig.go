package main

import "github.com/spf13/cobra"

func newDefconfigCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "defconfig [NAME]",
		Short:   "Load a defconfig into the workspace .config (make NAME)",
		Example: "  cube-hal defconfig cube_defconfig",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("defconfig", "Kconfig engine (#3)")
		},
	}
}
