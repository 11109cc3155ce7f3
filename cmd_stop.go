package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/launch"
)

func newStopCmd(g *globalFlags) *cobra.Command {
	var name string
	var timeout time.Duration
	var force bool
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Shut the running VM down cleanly (QMP powerdown, then quit)",
		Long: `Press the VM's ACPI power button over QMP and wait for the guest to power off;
if it does not within --timeout, tell QEMU to quit, then SIGTERM and SIGKILL its
own QEMU process. It returns once no QEMU of this VM is left.`,
		Example: "  cube-hal stop\n  cube-hal stop --name test-vm --timeout 10s\n  cube-hal stop --force",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 && !force {
				return usageErrorf("--timeout %s: want a positive duration", timeout).withHint("e.g. --timeout 30s, or --force to skip the guest's powerdown")
			}
			w, err := g.workspace()
			if err != nil {
				return err
			}
			vm, err := launch.Open(w.RunDir(), name)
			if errors.Is(err, launch.ErrNotFound) {
				return failf("%s", err).withHint("'cube-hal status' lists the VMs; start one with 'cube-hal launch'")
			}
			if err != nil {
				return failf("%s", err).withHint("pass --name; 'cube-hal status' lists the VMs")
			}
			o := launch.StopOptions{PowerdownTimeout: timeout, Progress: func(s string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "cube-hal: %s\n", s)
			}}
			if force {
				o.PowerdownTimeout = -1
			}
			res, err := vm.Stop(cmd.Context(), o)
			if err != nil {
				return failf("stopping VM %q: %s", vm.Record.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "VM %s stopped: %s\n", vm.Record.Name, res)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "VM name (default: the only running VM)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long the guest gets to power off before QEMU is told to quit")
	cmd.Flags().BoolVar(&force, "force", false, "skip the guest powerdown: quit QEMU at once")
	return cmd
}
