package main

import (
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/ultravioletrs/cube-hal/kconfig"
)

func newConfCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "conf [-s] --MODE KCONFIG",
		Short: "Drop-in for Buildroot's support/kconfig/conf",
		Long: `conf runs cube-hal's Kconfig engine with the arguments and environment of
Buildroot's support/kconfig/conf (BR2_CONFIG, KCONFIG_AUTOCONFIG, CONFIG_,
BR2_DEFCONFIG, srctree, KCONFIG_SEED, ...) and writes byte-identical files.

Modes: --defconfig[=FILE] --olddefconfig --oldconfig --oldaskconfig
--syncconfig --savedefconfig=FILE --alldefconfig --allyesconfig
--allnoconfig --allmodconfig --randconfig --listnewconfig; -s is quiet.`,
		Example:            "  cd $BUILDROOT_DIR && BR2_CONFIG=out/.config cube-hal conf --olddefconfig Config.in",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "-h" || a == "--help" {
					return cmd.Help()
				}
			}
			code := kconfig.RunConf("conf", args, kconfig.ConfIO{
				Stdin:  cmd.InOrStdin(),
				Stdout: cmd.OutOrStdout(),
				Stderr: cmd.ErrOrStderr(),
				TTY:    isTerminal(os.Stdin) && isTerminal(os.Stdout),
			})
			if code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
}

// isTerminal reports whether f is a terminal (isatty).
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
