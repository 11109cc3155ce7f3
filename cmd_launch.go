package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ultravioletrs/cube-hal/launch"
)

type launchFlags struct {
	mode, images, kernel, initrd, firmware, appendS string
	memory                                          string
	cpus                                            int
	sshPort, agentPort, guestAgentPort              int
	ports, wait, accel, name, qemu                  string
	timeout                                         time.Duration
	restrictNet, check, dryRun, follow              bool
	cbitpos                                         int
	policy, hostData, cpuModel, qgs                 string
	noKernelHashes                                  bool
}

func newLaunchCmd(g *globalFlags) *cobra.Command {
	f := &launchFlags{}
	cmd := &cobra.Command{
		Use:   "launch --mode snp|tdx|plain",
		Short: "Start the image as an SEV-SNP, TDX or plain QEMU VM",
		Long: `Start the built image (bzImage and rootfs.cpio.gz from the images directory)
as a QEMU VM in the background. SSH (guest 22) and the agent are forwarded to
127.0.0.1 only. The VM is recorded in the state directory so 'cube-hal ssh',
'cube-hal stop' and 'cube-hal status' find it; its serial console is logged
there.

Before anything starts, cube-hal checks that this host can run the mode (CPU
flags, kvm_amd/kvm_intel parameters, /dev/sev, /dev/kvm, the QEMU version and
object types, firmware) and says exactly what is missing. --check prints that
for every mode.`,
		Example: `  cube-hal launch --mode plain --wait ssh
  cube-hal launch --mode snp --firmware /etc/cube/OVMF.fd --memory 16G --cpus 8
  cube-hal launch --mode plain --kernel vmlinux --initrd rootfs.cpio.gz --ports auto
  cube-hal launch --check`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLaunch(cmd, g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mode, "mode", "", "snp, tdx or plain (required)")
	fl.StringVar(&f.images, "images", "", "directory with bzImage (or vmlinux), rootfs.cpio.gz and OVMF.fd (default: the output's images/)")
	fl.StringVar(&f.kernel, "kernel", "", "kernel image (instead of --images)")
	fl.StringVar(&f.initrd, "initrd", "", "initramfs (with --kernel)")
	fl.StringVar(&f.firmware, "firmware", "", "firmware for -bios (default: OVMF.fd in the images directory for snp and tdx; SeaBIOS for plain)")
	fl.StringVar(&f.appendS, "append", launch.DefaultAppend, "kernel command line")
	fl.StringVar(&f.memory, "memory", "", "guest memory, e.g. 512M or 8G (default 8G for snp and tdx, 2G for plain)")
	fl.IntVar(&f.cpus, "cpus", 0, "vCPUs (default 4 for snp and tdx, 2 for plain)")
	fl.IntVar(&f.sshPort, "ssh-port", launch.DefaultSSHPort, "host port (127.0.0.1) forwarded to the guest's SSH")
	fl.IntVar(&f.agentPort, "agent-port", launch.DefaultAgentPort, "host port (127.0.0.1) forwarded to the guest agent")
	fl.IntVar(&f.guestAgentPort, "guest-agent-port", launch.DefaultGuestAgentPort, "the agent's port inside the guest")
	fl.StringVar(&f.ports, "ports", "fixed", "fixed: fail when a port is taken; auto: pick free ports instead")
	fl.StringVar(&f.wait, "wait", launch.WaitQMP, "return once QEMU is up (qmp) or once the guest's SSH answers (ssh)")
	fl.DurationVar(&f.timeout, "timeout", 3*time.Minute, "give up (and stop the VM) when not up by then")
	fl.StringVar(&f.accel, "accel", "auto", "plain mode: auto (KVM when usable, else TCG), kvm or tcg")
	fl.StringVar(&f.name, "name", launch.DefaultName, "VM name (several VMs can run under different names)")
	fl.StringVar(&f.qemu, "qemu", "qemu-system-x86_64", "QEMU binary")
	fl.BoolVar(&f.restrictNet, "restrict-net", false, "cut the guest off from the network (the port forwards still work)")
	fl.BoolVar(&f.check, "check", false, "only say which modes this host can run, and why not")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the QEMU command line and exit")
	fl.BoolVar(&f.follow, "follow", false, "stream the serial console until the VM exits or Ctrl-C (which leaves the VM running)")
	fl.IntVar(&f.cbitpos, "cbitpos", launch.DefaultSNP.CBitPos, "snp: C-bit position")
	fl.StringVar(&f.policy, "policy", fmt.Sprintf("0x%x", launch.DefaultSNP.Policy), "snp: guest policy")
	fl.StringVar(&f.hostData, "host-data", "", "snp: base64 of 32 bytes placed in the report's HOST_DATA")
	fl.StringVar(&f.cpuModel, "cpu-model", launch.DefaultSNP.CPUModel, "snp: vCPU model (it is part of the launch measurement)")
	fl.BoolVar(&f.noKernelHashes, "no-kernel-hashes", false, "snp: do not measure kernel, initrd and command line (kernel-hashes=off)")
	fl.StringVar(&f.qgs, "qgs", launch.DefaultTDX.QGS, "tdx: quote generation service socket: vsock:CID:PORT, unix:PATH or none")
	return cmd
}

func runLaunch(cmd *cobra.Command, g *globalFlags, f *launchFlags) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	w, err := g.workspace()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if f.check {
		return launchCheck(ctx, out, w.ImagesDir(), f)
	}
	if f.mode == "" {
		return usageErrorf("--mode is required (snp, tdx or plain)").withHint("try 'cube-hal launch --check' to see which modes this host can run")
	}
	cfg, err := launchConfig(cmd, f, w.ImagesDir())
	if err != nil {
		var ce *cliError
		if errors.As(err, &ce) && ce.hint == "" {
			ce.withHint("see 'cube-hal launch --help' for the flags and their values")
		}
		return err
	}
	// SEV-SNP: the launch digest this VM's attestation reports must carry,
	// computed from exactly the files and settings QEMU is given (issue 10).
	snpDigest := expectedSNPMeasurement(errOut, cfg)
	if f.dryRun {
		cfg, v, err := launch.Prepare(ctx, cfg, nil)
		if err != nil && v.Mode == "" {
			return usageErrorf("%s", err)
		}
		for _, r := range v.Reasons {
			fmt.Fprintf(errOut, "warning: %s\n", r)
		}
		if snpDigest != "" {
			fmt.Fprintf(errOut, "cube-hal: expected SEV-SNP measurement: %s\n", snpDigest)
		}
		if cfg.Accel == launch.AccelAuto {
			// What Assess picked; snp and tdx always run on KVM, so show
			// their command line even on a host that cannot run them.
			cfg.Accel = v.Accel
			if cfg.Accel == launch.AccelAuto {
				cfg.Accel = launch.AccelTCG
			}
		}
		args, err := cfg.Args(launch.PathsIn(w.RunDir() + "/" + cfg.Name))
		if err != nil {
			return usageErrorf("%s", err)
		}
		fmt.Fprintln(out, launch.CommandLine(append([]string{cfg.QEMU}, args...)))
		return nil
	}
	opts := launch.Options{
		Config:         cfg,
		RunDir:         w.RunDir(),
		KnownHostsFile: w.KnownHostsFile(),
		AutoPorts:      f.ports == "auto",
		Wait:           f.wait,
		WaitTimeout:    f.timeout,
		Progress:       func(s string) { fmt.Fprintf(errOut, "cube-hal: %s\n", s) },
	}
	if snpDigest != "" {
		opts.ExpectedMeasurement, _ = hex.DecodeString(snpDigest)
	}
	vm, err := launch.Start(ctx, opts)
	if err != nil {
		return launchError(errOut, err, cfg)
	}
	printReach(out, vm)
	if f.wait != launch.WaitSSH {
		fmt.Fprintf(out, "  (SSH answers once the guest has booted; --wait ssh waits for it)\n")
	}
	printSNPMeasurement(out, snpDigest)
	if f.follow {
		return followConsole(ctx, out, vm)
	}
	return nil
}

func launchConfig(cmd *cobra.Command, f *launchFlags, defaultImages string) (launch.Config, error) {
	var cfg launch.Config
	mode, err := launch.ParseMode(f.mode)
	if err != nil {
		return cfg, usageErrorf("--mode: %s", err)
	}
	accel, err := launch.ParseAccel(f.accel)
	if err != nil {
		return cfg, usageErrorf("--accel: %s", err)
	}
	if f.ports != "fixed" && f.ports != "auto" {
		return cfg, usageErrorf("--ports %q: want fixed or auto", f.ports)
	}
	if f.wait != launch.WaitQMP && f.wait != launch.WaitSSH {
		return cfg, usageErrorf("--wait %q: want qmp or ssh", f.wait)
	}
	cfg = launch.Config{
		Mode: mode, QEMU: f.qemu, Name: f.name, Append: f.appendS, Firmware: f.firmware,
		CPUs: f.cpus, Accel: accel, RestrictNet: f.restrictNet,
		Ports: launch.Ports{SSH: f.sshPort, Agent: f.agentPort, GuestAgent: f.guestAgentPort},
	}
	if f.memory != "" {
		if cfg.MemoryMB, err = launch.ParseMemory(f.memory); err != nil {
			return cfg, usageErrorf("--%s", err)
		}
	}
	switch {
	case f.kernel != "":
		if f.images != "" {
			return cfg, usageErrorf("--kernel and --images both given").withHint("use --images DIR, or --kernel F with --initrd F")
		}
		cfg.Kernel, cfg.Initrd = f.kernel, f.initrd
	default:
		if f.initrd != "" {
			return cfg, usageErrorf("--initrd needs --kernel")
		}
		dir := f.images
		if dir == "" {
			dir = defaultImages
		}
		im, err := launch.FindImages(dir)
		if err != nil {
			hint := "build the image first ('cube-hal build'), or pass --images DIR or --kernel F --initrd F"
			if f.images != "" {
				return cfg, usageErrorf("--images: %s", err).withHint("%s", hint)
			}
			return cfg, failf("%s", err).withHint("%s", hint)
		}
		cfg.Kernel, cfg.Initrd = im.Kernel, im.Initrd
		if cfg.Firmware == "" && mode != launch.ModePlain {
			cfg.Firmware = im.Firmware
		}
	}
	if mode == launch.ModeSNP {
		pol, err := strconv.ParseUint(f.policy, 0, 64)
		if err != nil {
			return cfg, usageErrorf("--policy %q: want a number such as 0x30000", f.policy)
		}
		cfg.SNP = launch.SNPOptions{CBitPos: f.cbitpos, ReducedPhysBits: 1, Policy: pol,
			KernelHashes: !f.noKernelHashes, HostData: f.hostData, CPUModel: f.cpuModel}
	}
	if mode == launch.ModeTDX {
		cfg.TDX = launch.TDXOptions{QGS: f.qgs}
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		return cfg, usageErrorf("%s", err)
	}
	return cfg, nil
}

func launchError(errOut io.Writer, err error, cfg launch.Config) error {
	var refused *launch.RefusedError
	var portErr *launch.PortError
	var startErr *launch.StartError
	switch {
	case errors.As(err, &refused):
		return failf("%s", err).withHint("run 'cube-hal launch --check' to see what each mode needs; 'cube-hal launch --mode plain' runs anywhere")
	case errors.As(err, &portErr):
		flag := "--ssh-port"
		if portErr.Which == "agent" {
			flag = "--agent-port"
		}
		return failf("%s", portErr).withHint("pass %s with a free port, or --ports auto to pick free ports", flag)
	case errors.Is(err, launch.ErrRunning):
		return failf("%s", err).withHint("stop it with 'cube-hal stop --name %s', or launch another with --name", cfg.Name)
	case errors.Is(err, context.Canceled):
		return failf("launch interrupted; the VM was stopped")
	case errors.As(err, &startErr):
		if startErr.QEMUOutput != "" {
			fmt.Fprintf(errOut, "QEMU said:\n%s\n", indent(startErr.QEMUOutput))
		}
		if startErr.SerialTail != "" {
			fmt.Fprintf(errOut, "last lines of the serial console:\n%s\n", indent(startErr.SerialTail))
		}
		fmt.Fprintf(errOut, "command line:\n  %s\n", startErr.CommandLine)
		return failf("launch failed: %s", startErr.Err).withHint("logs are in %s (qemu.log, serial.log, keeper.log); no QEMU was left running", startErr.RunDir)
	}
	return failf("%s", err)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func printReach(out io.Writer, vm *launch.VM) {
	r := vm.Record
	mode := string(r.Mode)
	if r.Mode == launch.ModePlain {
		mode += ", " + string(r.Accel)
	}
	fmt.Fprintf(out, "VM %s is running (%s), QEMU pid %d\n", r.Name, mode, r.PID)
	nameFlag := ""
	if r.Name != launch.DefaultName {
		nameFlag = " --name " + r.Name
	}
	fmt.Fprintf(out, "  ssh:     cube-hal ssh%s   (port 127.0.0.1:%d)\n", nameFlag, r.Ports.SSH)
	fmt.Fprintf(out, "  agent:   http://127.0.0.1:%d (guest port %d)\n", r.Ports.Agent, r.Ports.GuestAgent)
	fmt.Fprintf(out, "  console: %s\n", vm.Paths().SerialLog)
	fmt.Fprintf(out, "  stop:    cube-hal stop%s\n", nameFlag)
}

func followConsole(ctx context.Context, out io.Writer, vm *launch.VM) error {
	rc, err := vm.FollowSerial(ctx, true)
	if err != nil {
		return failf("serial console: %s", err)
	}
	defer rc.Close()
	_, err = io.Copy(out, rc)
	if ctx.Err() != nil {
		fmt.Fprintf(out, "\n(detached; the VM keeps running: 'cube-hal stop' ends it)\n")
		return nil
	}
	if err != nil {
		return failf("serial console: %s", err)
	}
	vm.Refresh()
	if vm.Record.Exit != nil {
		fmt.Fprintf(out, "\nVM %s exited (%s)\n", vm.Record.Name, vm.Record.Exit)
	}
	return nil
}

func launchCheck(ctx context.Context, out io.Writer, imagesDir string, f *launchFlags) error {
	facts := launch.HostProbe{}.Facts(ctx, f.qemu, true)
	fw := map[launch.Mode]string{}
	if f.firmware != "" {
		for _, m := range launch.Modes {
			fw[m] = f.firmware
		}
	} else {
		dir := f.images
		if dir == "" {
			dir = imagesDir
		}
		if im, err := launch.FindImages(dir); err == nil {
			fw[launch.ModeSNP], fw[launch.ModeTDX] = im.Firmware, im.Firmware
		}
	}
	if facts.QEMU.Found() && facts.QEMU.Err == "" {
		fmt.Fprintf(out, "QEMU %s (%s)\n", facts.QEMU.Version, facts.QEMU.Path)
	}
	want := launch.Mode(f.mode)
	ok := true
	for _, v := range launch.AssessAll(facts, fw) {
		state := "yes"
		if !v.OK {
			state = "no"
			if want == v.Mode || want == "" && v.Mode == launch.ModePlain {
				ok = false
			}
		}
		label := string(v.Mode)
		if v.Mode == launch.ModePlain && v.OK {
			label += " (" + string(v.Accel) + ")"
		}
		fmt.Fprintf(out, "%-13s %s\n", label, state)
		for _, r := range v.Reasons {
			fmt.Fprintf(out, "  - %s\n", r)
		}
		for _, n := range v.Notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
	}
	if !ok {
		return exitCode(exitFailed)
	}
	return nil
}
