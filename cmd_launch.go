package main

import "github.com/spf13/cobra"

func newLaunchCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "launch",
		Short:   "Start the image as an SEV-SNP, TDX or plain QEMU VM",
		Example: "  cube-hal launch --mode plain --wait ssh",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("launch", "launch (#6)")
		},
	}
}
