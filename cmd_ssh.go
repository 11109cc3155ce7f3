package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/launch"
)

func newSSHCmd(g *globalFlags) *cobra.Command {
	var name, identity, user string
	cmd := &cobra.Command{
		Use:   "ssh [-- COMMAND...]",
		Short: "Open an SSH session to the running VM",
		Long: `Run the system OpenSSH client against the VM's forwarded SSH port, with the key
cube-hal certs' made and cube-hal's own known_hosts: the guest's host key is
pinned at the first contact of each run of the VM (the image makes new host
keys at every boot, so 'cube-hal launch' forgets the previous run's key), and a
key that changes within a run is refused loudly. Your ~/.ssh/config
and ssh-agent keep working; ~/.ssh/known_hosts is never touched.`,
		Example: "  cube-hal ssh\n  cube-hal ssh -- uname -a\n  cube-hal ssh --name test-vm -- cat /etc/cube/agent.env",
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := g.workspace()
			if err != nil {
				return err
			}
			if cmd.ArgsLenAtDash() > 0 {
				return usageErrorf("unexpected argument %q before --", args[0]).withHint("put the remote command after --: cube-hal ssh -- uname -a")
			}
			vm, err := launch.Open(w.RunDir(), name)
			if err != nil {
				return failf("%s", err).withHint("start one with 'cube-hal launch --mode plain --wait ssh'")
			}
			if !vm.Running() {
				return failf("VM %q is not running", vm.Record.Name).withHint("start it with 'cube-hal launch'")
			}
			key := identity
			if key == "" {
				key = w.SSHKeyFile()
			}
			o := launch.SSHOptions{User: user, KeyFile: key, KnownHostsFile: w.KnownHostsFile()}
			if err := launch.PrepareSSH(o); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return failf("%s", err).withHint("run 'cube-hal certs' to make it (and rebuild the image so the guest trusts it), or pass --identity FILE")
				}
				return failf("%s", err).withHint("check that %s is writable", w.StateDir)
			}
			if _, err := exec.LookPath("ssh"); err != nil {
				return failf("the OpenSSH client (ssh) is not on PATH").withHint("install openssh-client")
			}
			argv := vm.SSHArgs(o, args...)
			// Ctrl-C belongs to ssh (and the remote command): cube-hal waits
			// for it and passes its exit status on.
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGQUIT)
			defer signal.Stop(sigs)
			code, changed, err := launch.RunSSH(cmd.Context(), argv, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return failf("running ssh: %s", err).withHint("install openssh-client")
			}
			if changed {
				alias := launch.HostKeyAlias(vm.Record.Name)
				return failf("the SSH host key of VM %q CHANGED during this run (pinned at first contact in %s): refusing to connect", vm.Record.Name, w.KnownHostsFile()).
					withHint("something other than the guest may answer on 127.0.0.1:%d; if the guest's keys changed on purpose, forget the pin with: ssh-keygen -R %s -f %s", vm.Record.Ports.SSH, alias, w.KnownHostsFile())
			}
			if code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "VM name (default: the only running VM)")
	cmd.Flags().StringVarP(&identity, "identity", "i", "", "private key (default: the key 'cube-hal certs' made)")
	cmd.Flags().StringVarP(&user, "user", "l", "root", "user to log in as")
	return cmd
}
