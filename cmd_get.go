package main

import "github.com/spf13/cobra"

func newGetCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "get SYMBOL",
		Short:   "Print the value of a configuration symbol",
		Example: "  cube-hal get BR2_PACKAGE_CUBE_AGENT_PORT",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("get", "Kconfig engine (#3)")
		},
	}
}
