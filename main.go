// Command cube-hal configures, builds, launches and attests the Cube AI
// guest image (the HAL): a Buildroot image for AMD SEV-SNP and Intel TDX
// confidential VMs. With no arguments it opens the terminal UI.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/workspace"
)

// Exit codes shared by every subcommand.
const (
	exitOK     = 0 // the operation succeeded
	exitFailed = 1 // the operation failed
	exitUsage  = 2 // bad usage or bad input
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes cube-hal with args and returns the process exit code.
// It is the seam the CLI tests drive.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	return reportError(stderr, withSuggestion(root, err))
}

// withSuggestion turns cobra's `unknown command "statsu" for "cube-hal"`
// into a usage error whose hint names the command the user probably meant.
func withSuggestion(root *cobra.Command, err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "unknown command ") || !strings.HasSuffix(msg, `for "cube-hal"`) {
		return err
	}
	name, perr := strconv.Unquote(strings.Fields(msg)[2])
	if perr != nil {
		return err
	}
	if s := root.SuggestionsFor(name); len(s) > 0 {
		return usageErrorf("%s", msg).withHint("did you mean 'cube-hal %s'? ('cube-hal --help' lists every command)", s[0])
	}
	return err
}

// noArgs is cobra.NoArgs for leaf commands, with a message that says the
// command takes no arguments instead of calling the first one an unknown
// command.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("'%s' takes no arguments, got %q", cmd.CommandPath(), args[0]).
			withHint("run '%s --help' for usage", cmd.CommandPath())
	}
	return nil
}

// reportError prints err as one line on stderr (plus a hint line when it has
// one) and maps it to an exit code.
func reportError(stderr io.Writer, err error) int {
	var ce *cliError
	if errors.As(err, &ce) {
		if ce.quiet {
			return ce.code
		}
		fmt.Fprintf(stderr, "cube-hal: %s\n", ce.msg)
		if ce.hint != "" {
			fmt.Fprintf(stderr, "hint: %s\n", ce.hint)
		}
		return ce.code
	}
	// Workspace errors carry their own fix: a bad flag value is bad usage,
	// anything else missing (no Buildroot checkout, ...) a failure.
	var fe *workspace.FlagError
	if errors.As(err, &fe) {
		fmt.Fprintf(stderr, "cube-hal: %s\n", fe)
		if fe.Fix != "" {
			fmt.Fprintf(stderr, "hint: %s\n", fe.Fix)
		}
		return exitUsage
	}
	var he hinter
	if errors.As(err, &he) && he.Hint() != "" {
		fmt.Fprintf(stderr, "cube-hal: %s\n", err)
		fmt.Fprintf(stderr, "hint: %s\n", he.Hint())
		return exitFailed
	}
	// Errors that cobra raises itself (unknown flag, bad argument count,
	// unknown command) are usage errors.
	if isCobraUsageError(err) {
		fmt.Fprintf(stderr, "cube-hal: %s\n", err)
		fmt.Fprintf(stderr, "hint: run 'cube-hal --help' (or 'cube-hal <command> --help') for usage\n")
		return exitUsage
	}
	fmt.Fprintf(stderr, "cube-hal: %s\n", err)
	return exitFailed
}

// hinter is an error that knows the fix (workspace.MissingError, ...).
type hinter interface {
	error
	Hint() string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "cube-hal",
		Short: "Configure, build, launch and attest the Cube AI confidential-VM image",
		Long: `cube-hal drives the Cube AI guest image (the HAL) from one terminal screen:
configure it (a native Kconfig engine, drop-in compatible with Buildroot's conf),
build it (Buildroot's make with live progress), launch it as an SEV-SNP, TDX or
plain QEMU VM, reach it over SSH and verify its attestation reports.

Run with no arguments to open the terminal UI.`,
		Example: `  cube-hal                                  # open the terminal UI
  cube-hal --buildroot ~/src/buildroot doctor
  cube-hal defconfig cube_defconfig && cube-hal build
  cube-hal launch --mode plain --wait ssh && cube-hal ssh -- uname -a`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTUI(cmd, g)
		},
	}
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SuggestionsMinimumDistance = 2
	g.register(root)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%s", err).withHint("run '%s --help' for the flags it takes", c.CommandPath())
	})
	root.AddCommand(
		newConfCmd(g),
		newDefconfigCmd(g),
		newOlddefconfigCmd(g),
		newSavedefconfigCmd(g),
		newGetCmd(g),
		newSetCmd(g),
		newDoctorCmd(g),
		newBuildCmd(g),
		newLaunchCmd(g),
		newSSHCmd(g),
		newStopCmd(g),
		newStatusCmd(g),
		newAttestCmd(g),
		newCertsCmd(g),
		newDeployCmd(g),
		newMeasureCmd(g),
		newVersionCmd(g),
	)
	return root
}
