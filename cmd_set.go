package main

import (
	"errors"
	"fmt"
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
previous one as .config.old (with no .config yet, it starts from
cube_defconfig, as 'cube-hal defconfig' would). It prints every symbol that changed as a
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
			sess, err := openSession(cmd, g)
			if err != nil {
				return err
			}
			k := sess.K
			var all []kconfig.Change
			for _, a := range as {
				s := k.Find(a.name)
				if s == nil {
					return unknownSymbol(k, a.name)
				}
				if sess.Standalone && !sess.Owned(s) {
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
			if err := sess.Save(); err != nil {
				return failf("saving the configuration: %s", err)
			}
			printChanges(cmd.OutOrStdout(), all)
			for _, c := range all {
				if c.Symbol.Secret() {
					if note := sess.SecretNote(); note != "" {
						fmt.Fprintln(cmd.OutOrStdout(), note)
					}
					break
				}
			}
			return nil
		},
	}
}
