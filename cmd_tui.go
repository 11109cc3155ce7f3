package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/tui"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// runTUI opens the terminal UI (cube-hal with no arguments) on the
// workspace's configuration.
func runTUI(cmd *cobra.Command, g *globalFlags) error {
	ws, err := g.workspace()
	if err != nil {
		return err
	}
	if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
		return usageErrorf("the terminal UI needs a terminal on standard input and output").
			withHint("run cube-hal in a terminal, or use a subcommand ('cube-hal --help' lists them)")
	}
	return tui.Run(cmd.Context(), tui.Options{
		Open:       func() (tui.Engine, error) { return tui.OpenWorkspace(ws) },
		OverlayDir: ws.OverlayDir,
		Context:    workspaceContext(ws),
		Workspace:  ws,
	})
}

// workspaceContext is the header's summary of the workspace.
func workspaceContext(ws *workspace.Workspace) string {
	if ws.Standalone() {
		return "standalone"
	}
	return "Buildroot " + tildePath(ws.BuildrootDir)
}

// tildePath shortens a path under the home directory to ~/...
func tildePath(p string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "" && home != "/" {
		if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join("~", rel)
		}
	}
	return p
}
