package main

import "github.com/spf13/cobra"

func newSavedefconfigCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "savedefconfig",
		Short:   "Write the minimal defconfig (make savedefconfig)",
		Example: "  cube-hal savedefconfig",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("savedefconfig", "Kconfig engine (#3)")
		},
	}
}
