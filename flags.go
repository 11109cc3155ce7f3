package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/workspace"
)

// globalFlags are the workspace flags every subcommand shares.
type globalFlags struct {
	buildroot string
	output    string
	external  string
	overlay   string
	stateDir  string
}

func (g *globalFlags) register(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&g.buildroot, "buildroot", "", "Buildroot checkout (default $BUILDROOT_DIR; none: standalone mode)")
	pf.StringVarP(&g.output, "output", "O", "", "Buildroot output directory, make's O= (default ./output)")
	pf.StringVar(&g.external, "external", "", "Cube BR2_EXTERNAL tree (default ./buildroot in this repo, else the built-in copy, written to the user cache)")
	pf.StringVar(&g.overlay, "overlay", "", "rootfs overlay directory (default ./overlay in this repo, else <state-dir>/overlay)")
	pf.StringVar(&g.stateDir, "state-dir", "", "cube-hal state: VM run records, SSH keys (default $XDG_STATE_HOME/cube-hal)")
}

// workspace resolves the workspace from the flags and environment. A bad
// flag value comes back as a *workspace.FlagError, which run reports as a
// usage error (exit 2) naming the flag, with its fix as the hint.
func (g *globalFlags) workspace() (*workspace.Workspace, error) {
	w, err := workspace.Resolve(workspace.Options{
		Buildroot: g.buildroot,
		Output:    g.output,
		External:  g.external,
		Overlay:   g.overlay,
		StateDir:  g.stateDir,
	})
	if err != nil {
		var fe *workspace.FlagError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, failf("%s", err).withHint("set XDG_CACHE_HOME to a writable directory, or pass --external DIR")
	}
	return w, nil
}
