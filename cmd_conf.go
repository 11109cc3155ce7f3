package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/kconfig/brenv"
	"github.com/ultravioletrs/cube-hal/workspace"
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

// isTerminal reports whether f is a terminal (isatty): conf echoes the
// answers it reads only when they do not come from a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(f.Fd()) }

// ---- shared by defconfig, olddefconfig, savedefconfig, get and set ----

// prepareBuildroot sets up the output directory and environment the way
// Buildroot's make does before it runs conf.
func prepareBuildroot(w *workspace.Workspace) (*brenv.Env, error) {
	var exts []string
	if w.ExternalDir != "" {
		exts = []string{w.ExternalDir}
	}
	env, err := brenv.Prepare(w.BuildrootDir, w.OutputDir, exts, brenv.Options{})
	if err != nil {
		return nil, failf("%s", err).withHint("check --buildroot, --output and --external (run 'cube-hal status')")
	}
	return env, nil
}

// withVars overlays variables on an environment lookup.
func withVars(base func(string) (string, bool), vars map[string]string) func(string) (string, bool) {
	return func(n string) (string, bool) {
		if v, ok := vars[n]; ok {
			return v, true
		}
		return base(n)
	}
}

// runConf runs one conf mode on the Buildroot tree, as the make target does.
func runConf(cmd *cobra.Command, env *brenv.Env, vars map[string]string, args ...string) error {
	code := kconfig.RunConf("conf", append(args, "Config.in"), kconfig.ConfIO{
		Stdin: cmd.InOrStdin(), Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(),
		Dir: env.Topdir, LookupEnv: withVars(env.LookupEnv, vars),
	})
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// openSession resolves the workspace from the global flags and opens its
// configuration like make would see it (standalone: the Cube tree and its
// cube_defconfig).
func openSession(cmd *cobra.Command, g *globalFlags) (*brenv.Session, error) {
	w, err := g.workspace()
	if err != nil {
		return nil, err
	}
	if w.Standalone() && w.ExternalDir == "" {
		return nil, usageErrorf("no Buildroot checkout and no Cube external tree").
			withHint("set --buildroot DIR (or BUILDROOT_DIR), or --external DIR for standalone mode")
	}
	s, err := brenv.Open(w, brenv.OpenOptions{Stderr: cmd.ErrOrStderr()})
	if err != nil {
		hint := "check --buildroot, --output and --external (run 'cube-hal status')"
		if w.Standalone() {
			hint = "standalone mode reads " + standaloneDefconfig(w) + "; set --buildroot DIR for a Buildroot build"
		}
		return nil, failf("%s", err).withHint("%s", hint)
	}
	return s, nil
}

// standaloneDefconfig is the defconfig standalone mode edits in place.
func standaloneDefconfig(w *workspace.Workspace) string {
	return filepath.Join(w.ExternalDir, "configs", "cube_defconfig")
}

func needBuildroot(w *workspace.Workspace, what string) error {
	if !w.Standalone() {
		return nil
	}
	hint := "set --buildroot DIR or BUILDROOT_DIR (get one with: " + workspace.CloneCommand() + ")"
	if w.ExternalDir != "" {
		hint += "; without one, 'cube-hal get' and 'cube-hal set' edit " + standaloneDefconfig(w) + " directly"
	}
	return usageErrorf("%s needs a Buildroot checkout (standalone mode)", what).withHint("%s", hint)
}

// unknownSymbol is the error for a name no Kconfig file defines, with the
// closest matches as the hint.
func unknownSymbol(k *kconfig.Kconfig, name string) error {
	e := usageErrorf("unknown symbol %s", name)
	var near []string
	for _, r := range k.Search(strings.TrimPrefix(name, "BR2_")) {
		if r.Symbol != nil && r.Symbol.Name() != "" {
			near = append(near, r.Symbol.Name())
		}
		if len(near) == 3 {
			break
		}
	}
	if len(near) > 0 {
		return e.withHint("did you mean %s?", strings.Join(near, ", "))
	}
	return e.withHint("symbol names are as in .config, e.g. BR2_PACKAGE_CUBE_AGENT (the BR2_ prefix may be left out)")
}

func printChanges(out io.Writer, changes []kconfig.Change) {
	for _, c := range changes {
		fmt.Fprintln(out, c.String())
	}
}
