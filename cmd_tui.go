//go:build !kconfigapi

package main

import "github.com/spf13/cobra"

// runTUI opens the terminal UI (cube-hal with no arguments).
func runTUI(cmd *cobra.Command, g *globalFlags) error {
	return notYet("the terminal UI", "TUI (#8)")
}
