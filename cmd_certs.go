package main

import "github.com/spf13/cobra"

func newCertsCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "certs",
		Short:   "Generate development certificates and the SSH key into the overlay",
		Example: "  cube-hal certs",
		RunE: func(cmd *cobra.Command, args []string) error {
			return notYet("certs", "external tree (#4)")
		},
	}
}
