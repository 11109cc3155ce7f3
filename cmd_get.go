package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/kconfig"
)

func newGetCmd(g *globalFlags) *cobra.Command {
	var explain, reveal bool
	c := &cobra.Command{
		Use:   "get SYMBOL...",
		Short: "Print the value of configuration symbols",
		Long: `get prints the value a symbol has in the workspace .config (strings
without quotes; n for disabled options; with no .config yet, the values
cube_defconfig gives). With several symbols it prints
NAME=VALUE lines. The BR2_ prefix may be left out. --explain says why the
value is what it is: dependencies and their values, selects, defaults.
Secret values (the certs token) print as ******** unless --reveal is given.

Without a Buildroot checkout (standalone mode) it reads the Cube external
tree's configs/cube_defconfig.`,
		Example: "  cube-hal get BR2_PACKAGE_CUBE_AGENT_PORT\n  cube-hal get --explain PACKAGE_VLLM",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sess, err := openSession(cmd, g)
			if err != nil {
				return err
			}
			k := sess.K
			out := cmd.OutOrStdout()
			for _, name := range args {
				s := k.Find(name)
				if s == nil {
					return unknownSymbol(k, name)
				}
				v := s.Value()
				if s.Secret() && !reveal {
					v = kconfig.MaskSecret(v)
				}
				switch {
				case explain:
					fmt.Fprint(out, k.Explain(s).Text())
				case len(args) == 1:
					fmt.Fprintln(out, v)
				default:
					fmt.Fprintf(out, "%s=%s\n", s.Name(), v)
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&explain, "explain", false, "explain why each symbol has its value")
	c.Flags().BoolVar(&reveal, "reveal", false, "print secret values (the certs token) instead of ********")
	return c
}
