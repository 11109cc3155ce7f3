package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/kconfig/brenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

func newDefconfigCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "defconfig [NAME]",
		Short: "Load a defconfig into the workspace .config (make NAME)",
		Long: `defconfig does what 'make NAME' does in the Buildroot tree, without make:
it finds NAME in the configs/ directory of the Cube external tree or of
Buildroot (or takes NAME as a path), sets the environment make would, and
writes $(O)/.config. NAME defaults to cube_defconfig. Secret values kept
in <state dir>/secrets.config (defconfigs never hold them) are applied on
top.`,
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
			if data, err := os.ReadFile(path); err == nil {
				brenv.WarnSecretLines(cmd.ErrOrStderr(), path, data)
			}
			if err := runConf(cmd, env, map[string]string{"BR2_DEFCONFIG": path}, "--defconfig="+path); err != nil {
				return err
			}
			return restoreSecrets(cmd, w, env)
		},
	}
}

// restoreSecrets applies the workspace's secrets file on top of the
// .config a defconfig gave (defconfigs never hold secrets).
func restoreSecrets(cmd *cobra.Command, w *workspace.Workspace, env *brenv.Env) error {
	path := brenv.SecretsFile(w)
	values, err := brenv.ReadSecrets(path)
	if err != nil {
		return failf("reading %s: %s", path, err)
	}
	if len(values) == 0 {
		return nil
	}
	k, err := kconfig.Load("Config.in", kconfig.Options{Dir: env.Topdir, LookupEnv: env.LookupEnv, Stderr: io.Discard})
	if err != nil {
		return failf("%s", err)
	}
	if err := k.ReadConfig(env.ConfigFile()); err != nil {
		return failf("%s", err)
	}
	set, err := brenv.ApplySecrets(k, path)
	if err != nil || len(set) == 0 {
		return err
	}
	// Replace .config without touching .config.old (conf just kept the
	// previous .config there).
	if err := brenv.WriteConfigFile(env.ConfigFile(), k.ConfigText(), false); err != nil {
		return failf("%s", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: secret, restored from %s\n", strings.Join(set, ", "), path)
	return nil
}
