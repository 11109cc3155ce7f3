package main

import "github.com/spf13/cobra"

func newDeployCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "deploy",
		Short:   "Copy bzImage, rootfs and firmware to /etc/cube",
		Example: "  sudo cube-hal deploy",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("deploy", "launch (#6)")
		},
	}
}
