package main

import (
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
	pf.StringVar(&g.external, "external", "", "Cube BR2_EXTERNAL tree (default ./buildroot in this repo, else the built-in copy)")
	pf.StringVar(&g.overlay, "overlay", "", "rootfs overlay directory (default ./overlay in this repo)")
	pf.StringVar(&g.stateDir, "state-dir", "", "cube-hal state: VM run records, SSH keys (default $XDG_STATE_HOME/cube-hal)")
}

// workspace resolves the workspace from the flags and environment. A bad
// flag value is a usage error naming the flag.
func (g *globalFlags) workspace() (*workspace.Workspace, error) {
	w, err := workspace.Resolve(workspace.Options{
		Buildroot: g.buildroot,
		Output:    g.output,
		External:  g.external,
		Overlay:   g.overlay,
		StateDir:  g.stateDir,
	})
	if err != nil {
		return nil, usageErrorf("%s", err).withHint("check the path, or run 'cube-hal status' to see the workspace")
	}
	return w, nil
}
