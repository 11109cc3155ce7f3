package main

import "github.com/spf13/cobra"

func newDefconfigCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "defconfig [NAME]",
		Short: "Load a defconfig into the workspace .config (make NAME)",
		Long: `defconfig does what 'make NAME' does in the Buildroot tree, without make:
it finds NAME in the configs/ directory of the Cube external tree or of
Buildroot (or takes NAME as a path), sets the environment make would, and
writes $(O)/.config. NAME defaults to cube_defconfig.`,
		Example: "  cube-hal defconfig cube_defconfig\n  cube-hal --buildroot ~/buildroot defconfig qemu_x86_64_defconfig",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			if err := needBuildroot(w, "defconfig"); err != nil {
				return err
			}
			name := "cube_defconfig"
			if len(args) == 1 {
				name = args[0]
			}
			env, err := prepareBuildroot(w)
			if err != nil {
				return err
			}
			path, err := env.FindDefconfig(name)
			if err != nil {
				return usageErrorf("%s", err).withHint("give a defconfig name from configs/ or a path to one")
			}
			return runConf(cmd, env, map[string]string{"BR2_DEFCONFIG": path}, "--defconfig="+path)
		},
	}
}
