package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/kconfig/brenv"
)

func newSavedefconfigCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "savedefconfig [FILE]",
		Short: "Save the minimal configuration (make savedefconfig)",
		Long: `savedefconfig does what 'make savedefconfig' does, in well under a second
instead of make's 15-30: it writes the minimal configuration to FILE, else
to BR2_DEFCONFIG (the defconfig the .config came from), else to
$(O)/defconfig, and drops its BR2_DEFCONFIG= line like make does.
Secret values (the certs token) are left out of the defconfig, which git
may track: they stay in $(O)/.config and in <state dir>/secrets.config,
from where 'cube-hal defconfig' restores them.`,
		Example: "  cube-hal savedefconfig\n  cube-hal savedefconfig /tmp/my_defconfig",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			if err := needBuildroot(w, "savedefconfig"); err != nil {
				return err
			}
			env, err := prepareBuildroot(w)
			if err != nil {
				return err
			}
			raw := env.DefconfigVar()
			dest := filepath.Join(env.ConfigDir, "defconfig")
			if len(args) == 1 {
				if dest, err = filepath.Abs(args[0]); err != nil {
					return usageErrorf("%s", err)
				}
			} else if raw != "" {
				if dest, err = env.Expand(raw); err != nil {
					return failf("BR2_DEFCONFIG in %s: %s", env.ConfigFile(), err).
						withHint("give the destination: cube-hal savedefconfig FILE")
				}
			}
			if err := runConf(cmd, env, map[string]string{"BR2_DEFCONFIG": raw}, "--savedefconfig="+dest); err != nil {
				return err
			}
			if err := dropDefconfigLine(dest); err != nil {
				return failf("%s", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", dest)
			// The secrets stay in .config and the secrets file.
			cfg, err := os.ReadFile(env.ConfigFile())
			if err != nil {
				return failf("%s", err)
			}
			values := map[string]string{}
			all := kconfig.ParseConfig(cfg, "")
			for _, n := range brenv.SecretSymbols() {
				if v, ok := all[n]; ok {
					values[n] = v
				}
			}
			if err := brenv.WriteSecrets(brenv.SecretsFile(w), values); err != nil {
				return failf("keeping the secrets: %s", err)
			}
			var set []string
			for _, n := range brenv.SecretSymbols() {
				if values[n] != "" {
					set = append(set, n)
				}
			}
			if len(set) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: secret, kept in %s and %s, not in %s\n",
					strings.Join(set, ", "), brenv.SecretsFile(w), env.ConfigFile(), dest)
			}
			return nil
		},
	}
}

// dropDefconfigLine is make's `sed -i '/^BR2_DEFCONFIG=/d'`, atomically.
// dropDefconfigLine removes the BR2_DEFCONFIG= line, as make does, and
// the secrets' lines from a saved defconfig.
func dropDefconfigLine(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(data), "\n")
	var keep strings.Builder
	for _, l := range lines {
		if !strings.HasPrefix(l, "BR2_DEFCONFIG=") {
			keep.WriteString(l)
		}
	}
	out, _ := brenv.DropSecretLines([]byte(keep.String()))
	if len(out) == len(data) {
		return nil
	}
	return atomicfile.WriteFileKeepOld(path, "", out, 0o644)
}
