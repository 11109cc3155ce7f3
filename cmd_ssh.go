package main

import "github.com/spf13/cobra"

func newSSHCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "ssh [-- COMMAND...]",
		Short:   "Open an SSH session to the running VM",
		Example: "  cube-hal ssh -- uname -a",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("ssh", "launch (#6)")
		},
	}
}
