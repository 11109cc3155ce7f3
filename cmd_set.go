package main

import "github.com/spf13/cobra"

func newSetCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "set SYMBOL=VALUE...",
		Short:   "Set configuration symbols and save .config",
		Example: "  cube-hal set BR2_PACKAGE_CUBE_AGENT_PORT=7002",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("set", "Kconfig engine (#3)")
		},
	}
}
