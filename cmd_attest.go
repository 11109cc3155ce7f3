package main

import "github.com/spf13/cobra"

func newAttestCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "attest",
		Short:   "Fetch and verify an attestation report from the guest's agent",
		Example: "  cube-hal attest --agent https://localhost:6193 --test-roots",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("attest", "agent (#7)")
		},
	}
}
