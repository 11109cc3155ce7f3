package main

import "github.com/spf13/cobra"

func newOlddefconfigCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "olddefconfig",
		Short: "Update .config for the current Kconfig tree, new symbols at defaults (make olddefconfig)",
		Long: `olddefconfig does what 'make olddefconfig' does, without make: it reads
$(O)/.config, gives every symbol it does not set its default value, and
writes it back (the previous one is kept as .config.old).`,
		Example: "  cube-hal olddefconfig",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			if err := needBuildroot(w, "olddefconfig"); err != nil {
				return err
			}
			env, err := prepareBuildroot(w)
			if err != nil {
				return err
			}
			return runConf(cmd, env, map[string]string{"BR2_DEFCONFIG": env.DefconfigVar()}, "--olddefconfig")
		},
	}
}
