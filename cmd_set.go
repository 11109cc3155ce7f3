package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/kconfig"
)

func newSetCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "set SYMBOL=VALUE...",
		Short: "Set configuration symbols and save .config",
		Long: `set assigns values as the configurator would (y/n for options, text for
strings, numbers in range) and saves the workspace .config, keeping the
previous one as .config.old. It prints every symbol that changed as a
result, and refuses a value it cannot take (hidden by a dependency,
forced by a select, out of range), saying why; then nothing is written.

Without a Buildroot checkout (standalone mode) it edits the Cube external
tree's configs/cube_defconfig in place, changing only the lines of Cube
symbols and keeping every other line and comment.`,
		Example: "  cube-hal set BR2_PACKAGE_CUBE_AGENT_PORT=7002\n  cube-hal set PACKAGE_CUBE_AGENT_BACKEND_VLLM=y PACKAGE_PYTHON3=y",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			type assign struct{ name, value string }
			var as []assign
			for _, a := range args {
				name, value, ok := strings.Cut(a, "=")
				if !ok || name == "" {
					return usageErrorf("%q is not SYMBOL=VALUE", a).withHint("for example: cube-hal set BR2_PACKAGE_CUBE_AGENT_PORT=7002")
				}
				as = append(as, assign{name, value})
			}
			w, err := g.workspace()
			if err != nil {
				return err
			}
			var k *kconfig.Kconfig
			var def string
			var save func() error
			if w.Standalone() {
				if k, def, err = loadStandalone(cmd, w); err != nil {
					return err
				}
				save = func() error {
					_, err := k.UpdateDefconfigFile(def, func(s *kconfig.Symbol) bool { return s.InDir(w.ExternalDir) })
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
				save = func() error { return k.WriteConfig(env.ConfigFile()) }
			}
			var all []kconfig.Change
			for _, a := range as {
				s := k.Find(a.name)
				if s == nil {
					return unknownSymbol(k, a.name)
				}
				if w.Standalone() && !s.InDir(w.ExternalDir) {
					return usageErrorf("%s is a Buildroot option; standalone mode edits only the Cube symbols", s.Name()).
						withHint("set --buildroot DIR to change Buildroot options")
				}
				ch, err := k.Set(s.Name(), a.value)
				if err != nil {
					var se *kconfig.SetError
					if errors.As(err, &se) {
						return usageErrorf("%s", err).withHint("see why: cube-hal get --explain %s", s.Name())
					}
					return failf("%s", err)
				}
				all = append(all, ch...)
			}
			if err := save(); err != nil {
				return failf("saving the configuration: %s", err)
			}
			printChanges(cmd.OutOrStdout(), all)
			return nil
		},
	}
}
