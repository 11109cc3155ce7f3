package main

import "github.com/spf13/cobra"

func newConfCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "conf [flags] KCONFIG",
		Short:   "Drop-in for Buildroot's support/kconfig/conf",
		Example: "  cd $BUILDROOT_DIR && BR2_CONFIG=out/.config cube-hal conf --olddefconfig Config.in",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("conf", "Kconfig engine (#3)")
		},
	}
}
