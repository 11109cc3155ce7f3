package main

import "github.com/spf13/cobra"

func newMeasureCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "measure",
		Short:   "Compute the expected SEV-SNP launch digest",
		Example: "  cube-hal measure --mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf OVMF.fd",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("measure", "measurement (#10)")
		},
	}
}
