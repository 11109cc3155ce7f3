package main

import "github.com/spf13/cobra"

func newOlddefconfigCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "olddefconfig",
		Short:   "Update .config, new symbols taking their defaults (make olddefconfig)",
		Example: "  cube-hal olddefconfig",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("olddefconfig", "Kconfig engine (#3)")
		},
	}
}
