package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/build"
	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// This file holds what the build, launch and attest screens share: the
// small interfaces they drive the back ends through (packages build,
// launch and agent/verify in the app; fakes in the screens' tests, since
// the back ends are tested in their own packages), the real
// implementations of those interfaces, and the session state that links
// the screens (the VM the launch screen started is the one the attest
// screen asks).

// Backends are the build, launch and attest back ends. A nil field means
// the real one, working on Options.Workspace.
type Backends struct {
	Build  BuildBackend
	Launch LaunchBackend
	Attest AttestBackend
}

// BuildBackend starts builds of the workspace.
type BuildBackend interface {
	// Check says whether a build can start and what the configuration's
	// problems are (cubecfg.Validate). It reads files: call it in a command.
	Check() BuildCheck
	// Start starts make for the goals (none: the whole image) in a pty of
	// cols x rows. Errors are about the request; once a run is returned,
	// every outcome is in its Snapshot.
	Start(targets []string, cols, rows int) (BuildRun, error)
	// Images lists what the last build left in the images directory.
	Images() workspace.ImagesState
}

// BuildCheck is what must be true before a build starts.
type BuildCheck struct {
	// Blocker is why no build can run at all ("no Buildroot checkout"),
	// with Hint saying what to do; "" when a build can run.
	Blocker, Hint string
	// Buildroot, Output and Config describe the workspace.
	Buildroot, Output string
	Config            workspace.ConfigState
	// Problems are the configuration's invalid values: the build is
	// refused until they are fixed.
	Problems []cubecfg.Problem
}

// BuildRun is a running or finished build (*build.Build).
type BuildRun interface {
	Updates() <-chan struct{}
	Snapshot() build.Snapshot
	Screen(rows int) []string
	Resize(cols, rows int) error
	Cancel()
	Kill()
}

// LaunchBackend starts VMs of the workspace's images and finds running ones.
type LaunchBackend interface {
	// Facts probes the host (CPU, KVM, SEV, TDX, QEMU): slow, call it in
	// a command.
	Facts(ctx context.Context) launch.HostFacts
	// Images finds the boot files in the images directory.
	Images() (launch.Images, error)
	// Start launches a VM and returns once QEMU answers on QMP; progress
	// gets one-line messages meanwhile.
	Start(ctx context.Context, cfg launch.Config, progress func(string)) (VM, error)
	// Running returns a running VM of this workspace (started by an
	// earlier session or by `cube-hal launch`), or nil.
	Running(ctx context.Context) (VM, error)
}

// VM is a launched VM (*launch.VM through vmHandle in the app).
type VM interface {
	Record() launch.Record
	Status(ctx context.Context) launch.VMStatus
	// FollowSerial streams the serial console from its start.
	FollowSerial(ctx context.Context) (io.ReadCloser, error)
	// SSHReady returns nil once the guest's SSH server answers.
	SSHReady(ctx context.Context) error
	// SSHCommand is the ssh client to run in the console pane.
	SSHCommand() (*exec.Cmd, error)
	// SSHHint explains a failed SSH session from what it printed ("" when
	// there is nothing to add).
	SSHHint(output string) string
	Stop(ctx context.Context, o launch.StopOptions) (launch.StopResult, error)
}

// AttestBackend fetches and verifies evidence (verify.Attest).
type AttestBackend interface {
	Attest(ctx context.Context, opts verify.Options) (*verify.Result, error)
}

// session is the state the workflow screens share. The launch screen owns
// the VM fields; the others read them.
type session struct {
	ws *workspace.Workspace
	be Backends
	// unsaved lists the configurator's unsaved changes (the build uses
	// the saved configuration).
	unsaved func() []string

	vm       VM              // the VM of this session, nil when none
	vmStatus launch.VMStatus // its latest status

	// notes gets what the screens say once the UI has closed (a build
	// being cancelled, a VM left running): the terminal's stderr.
	notes io.Writer
}

// Messages between the workflow screens (broadcast: every screen sees
// them).
type (
	// vmChangedMsg: the session's VM started, was found, or stopped.
	vmChangedMsg struct{}
	// buildFinishedMsg: a build ended (the launch screen looks for new
	// images).
	buildFinishedMsg struct{ phase build.Phase }
)

// Optional parts of a Screen the app uses when a screen has them.
type (
	// keyClaimer is a screen that takes keys the app would otherwise act
	// on itself: everything while a terminal pane has the focus, ctrl+c
	// while a build runs.
	keyClaimer interface{ ClaimsKey(tea.KeyMsg) bool }
	// activator is told when its tab is shown.
	activator interface{ Activate() tea.Cmd }
	// quitOptioner offers its own answers to the quit question ("stop
	// the VM, then quit"): the app sends the chosen option's Msg to it,
	// and the screen ends with quitNow.
	quitOptioner interface{ QuitOptions() []quitOption }
	// closer ends what a screen started when the app exits (a build is
	// cancelled, an ssh client ended; a VM is left as the user chose).
	closer interface{ Close() }
)

type quitOption struct {
	Key key.Binding
	Msg tea.Msg
}

// newWorkflowScreens makes the build, launch and attest screens.
func newWorkflowScreens(c *Common, o Options, unsaved func() []string) []Screen {
	ses := &session{ws: o.Workspace, be: o.Backends, unsaved: unsaved, notes: os.Stderr}
	if ses.be.Build == nil {
		ses.be.Build = realBuild{ws: o.Workspace}
	}
	if ses.be.Launch == nil {
		ses.be.Launch = realLaunch{ws: o.Workspace}
	}
	if ses.be.Attest == nil {
		ses.be.Attest = realAttest{}
	}
	return []Screen{newBuildScreen(c, ses), newLaunchScreen(c, ses), newAttestScreen(c, ses)}
}

// realBuild is BuildBackend on package build.
type realBuild struct{ ws *workspace.Workspace }

func (r realBuild) Check() BuildCheck {
	if r.ws == nil {
		return BuildCheck{Blocker: "no workspace", Hint: "run cube-hal from a terminal with a workspace (see cube-hal --help)"}
	}
	c := BuildCheck{Buildroot: r.ws.BuildrootDir, Output: r.ws.OutputDir, Config: r.ws.Config()}
	if r.ws.Standalone() {
		c.Blocker = "no Buildroot checkout to build with (standalone mode)"
		c.Hint = "quit, then start cube-hal with --buildroot DIR or BUILDROOT_DIR set (get one with: " + workspace.CloneCommand() + ")"
		return c
	}
	if !c.Config.Exists {
		c.Blocker = "no configuration: " + c.Config.Path + " does not exist"
		c.Hint = "save the configuration in Configure (1) to write it, or run 'cube-hal defconfig cube_defconfig'"
		return c
	}
	vals, err := cubecfg.ReadConfig(c.Config.Path)
	if err != nil {
		c.Blocker = err.Error()
		c.Hint = "fix or regenerate the .config ('cube-hal defconfig cube_defconfig')"
		return c
	}
	c.Problems = cubecfg.Validate(vals.Get, r.ws.OverlayDir)
	return c
}

func (r realBuild) Start(targets []string, cols, rows int) (BuildRun, error) {
	b, err := build.Start(build.Options{Workspace: r.ws, Targets: targets, Cols: cols, Rows: rows})
	if errors.Is(err, build.ErrNoConfig) {
		return nil, fmt.Errorf("%w: configure the workspace first ('cube-hal defconfig cube_defconfig')", err)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (r realBuild) Images() workspace.ImagesState {
	if r.ws == nil {
		return workspace.ImagesState{}
	}
	return r.ws.Images()
}

// realLaunch is LaunchBackend on package launch.
type realLaunch struct{ ws *workspace.Workspace }

const qemuBinary = "qemu-system-x86_64"

func (r realLaunch) Facts(ctx context.Context) launch.HostFacts {
	if r.ws == nil {
		// No workspace (the configurator's own tests): nothing to launch,
		// so no QEMU to ask.
		return launch.HostFacts{}
	}
	return launch.HostProbe{}.Facts(ctx, qemuBinary, true)
}

func (r realLaunch) Images() (launch.Images, error) {
	if r.ws == nil {
		return launch.Images{}, errors.New("no workspace")
	}
	return launch.FindImages(r.ws.ImagesDir())
}

func (r realLaunch) Start(ctx context.Context, cfg launch.Config, progress func(string)) (VM, error) {
	if r.ws == nil {
		return nil, errors.New("no workspace")
	}
	// KnownHostsFile: Start forgets the previous run's host key, as
	// 'cube-hal launch' does; the image makes new ones at every boot, and
	// the console's ssh would refuse the new key.
	vm, err := launch.Start(ctx, launch.Options{
		Config: cfg, RunDir: r.ws.RunDir(), AutoPorts: true, Wait: launch.WaitQMP,
		WaitTimeout: 2 * time.Minute, Progress: progress, KnownHostsFile: r.ws.KnownHostsFile(),
	})
	if err != nil {
		return nil, err
	}
	return vmHandle{vm: vm, ws: r.ws}, nil
}

func (r realLaunch) Running(ctx context.Context) (VM, error) {
	if r.ws == nil {
		return nil, nil
	}
	vms, err := launch.List(ctx, r.ws.RunDir())
	if err != nil {
		return nil, err
	}
	for _, s := range vms {
		if !s.Running {
			continue
		}
		vm, err := launch.Open(r.ws.RunDir(), s.Name)
		if err != nil {
			return nil, err
		}
		return vmHandle{vm: vm, ws: r.ws}, nil
	}
	return nil, nil
}

// vmHandle is VM on a *launch.VM.
type vmHandle struct {
	vm *launch.VM
	ws *workspace.Workspace
}

func (h vmHandle) Record() launch.Record { return h.vm.Record }

func (h vmHandle) Status(ctx context.Context) launch.VMStatus { return h.vm.Status(ctx) }

func (h vmHandle) FollowSerial(ctx context.Context) (io.ReadCloser, error) {
	return h.vm.FollowSerial(ctx, true)
}

func (h vmHandle) SSHReady(ctx context.Context) error {
	return launch.ProbeSSH(ctx, h.vm.Record.Ports.SSH)
}

func (h vmHandle) sshOptions() launch.SSHOptions {
	return launch.SSHOptions{KeyFile: h.ws.SSHKeyFile(), KnownHostsFile: h.ws.KnownHostsFile()}
}

func (h vmHandle) SSHCommand() (*exec.Cmd, error) {
	o := h.sshOptions()
	if err := launch.PrepareSSH(o); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (make it with 'cube-hal certs', and rebuild the image so the guest trusts it)", err)
		}
		return nil, err
	}
	argv := h.vm.SSHArgs(o)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("the OpenSSH client (ssh) is not on PATH: install openssh-client")
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	return cmd, nil
}

func (h vmHandle) SSHHint(output string) string {
	if containsFold(output, launch.HostKeyChangedMarker) {
		return fmt.Sprintf("the guest's host key changed since it was pinned; if you rebuilt the image, forget the old key: ssh-keygen -R %s -f %s",
			launch.HostKeyAlias(h.vm.Record.Name), h.ws.KnownHostsFile())
	}
	if containsFold(output, "Permission denied") {
		return fmt.Sprintf("the guest refused the key %s: rebuild the image after 'cube-hal certs' so it trusts it", h.ws.SSHKeyFile())
	}
	return ""
}

func (h vmHandle) Stop(ctx context.Context, o launch.StopOptions) (launch.StopResult, error) {
	return h.vm.Stop(ctx, o)
}

// realAttest is AttestBackend on agent/verify.
type realAttest struct{}

func (realAttest) Attest(ctx context.Context, opts verify.Options) (*verify.Result, error) {
	return verify.Attest(ctx, opts)
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
