package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/kconfig"
)

func newGetCmd(g *globalFlags) *cobra.Command {
	var explain bool
	c := &cobra.Command{
		Use:   "get SYMBOL...",
		Short: "Print the value of configuration symbols",
		Long: `get prints the value a symbol has in the workspace .config (strings
without quotes; n for disabled options). With several symbols it prints
NAME=VALUE lines. The BR2_ prefix may be left out. --explain says why the
value is what it is: dependencies and their values, selects, defaults.

Without a Buildroot checkout (standalone mode) it reads the Cube external
tree's configs/cube_defconfig.`,
		Example: "  cube-hal get BR2_PACKAGE_CUBE_AGENT_PORT\n  cube-hal get --explain PACKAGE_VLLM",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			var k *kconfig.Kconfig
			if w.Standalone() {
				if k, _, err = loadStandalone(cmd, w); err != nil {
					return err
				}
			} else {
				env, err := prepareBuildroot(w)
				if err != nil {
					return err
				}
				if k, err = loadBuildroot(cmd, env); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			for _, name := range args {
				s := k.Find(name)
				if s == nil {
					return unknownSymbol(k, name)
				}
				switch {
				case explain:
					fmt.Fprint(out, k.Explain(s).Text())
				case len(args) == 1:
					fmt.Fprintln(out, s.Value())
				default:
					fmt.Fprintf(out, "%s=%s\n", s.Name(), s.Value())
				}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&explain, "explain", false, "explain why each symbol has its value")
	return c
}
