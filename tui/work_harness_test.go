package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/ultravioletrs/cube-hal/agent/verify"
	"github.com/ultravioletrs/cube-hal/build"
	"github.com/ultravioletrs/cube-hal/host"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// loop drives an App the way Bubble Tea does: Update runs on the test's
// goroutine, each command in a goroutine of its own, their messages come
// back through a channel. Unlike the configurator's harness it never waits
// for a command, so commands that block on a build or a VM (as they do in
// the app) are fine; the test waits for what it expects to see.
type loop struct {
	t    *testing.T
	app  *App
	msgs chan tea.Msg
	quit bool
}

func newLoop(t *testing.T, o Options, w, h int) *loop {
	t.Helper()
	if o.Open == nil {
		o.Open = func() (Engine, error) { return nil, errors.New("no configuration in this test") }
	}
	l := &loop{t: t, app: New(o), msgs: make(chan tea.Msg, 1024)}
	l.buildScreen().ses.notes = io.Discard
	t.Cleanup(l.app.close)
	l.send(tea.WindowSizeMsg{Width: w, Height: h})
	l.run(l.app.Init())
	return l
}

// run starts cmd; its message (and those of a batch) come back later.
func (l *loop) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			for _, c := range b {
				l.run(c)
			}
			return
		}
		if msg != nil {
			l.msgs <- msg
		}
	}()
}

func (l *loop) send(msg tea.Msg) {
	l.t.Helper()
	if _, ok := msg.(tea.QuitMsg); ok {
		l.quit = true
		return
	}
	_, cmd := l.app.Update(msg)
	l.run(cmd)
}

// deliver processes the messages that arrive within d.
func (l *loop) deliver(d time.Duration) {
	l.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-l.msgs:
			l.send(m)
		case <-deadline:
			return
		}
	}
}

// until processes messages until cond holds (checked after each), or
// fails the test with the screen after a minute: a deadline only a real
// failure reaches, not a slow machine.
func (l *loop) until(what string, cond func() bool) {
	l.t.Helper()
	deadline := time.After(time.Minute)
	for !cond() {
		select {
		case m := <-l.msgs:
			l.send(m)
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			l.t.Fatalf("timed out waiting for %s; screen:\n%s", what, l.screen())
		}
	}
}

// shows waits until the screen shows every one of want.
func (l *loop) shows(want ...string) string {
	l.t.Helper()
	var s string
	l.until(fmt.Sprintf("the screen to show %q", want), func() bool {
		s = l.screen()
		for _, w := range want {
			if !strings.Contains(s, w) {
				return false
			}
		}
		return true
	})
	return s
}

func (l *loop) lacks(bad ...string) {
	l.t.Helper()
	s := l.screen()
	for _, b := range bad {
		if strings.Contains(s, b) {
			l.t.Fatalf("screen shows %q:\n%s", b, s)
		}
	}
}

func (l *loop) keys(names ...string) {
	l.t.Helper()
	for _, n := range names {
		l.send(keyMsg(n))
	}
}

func (l *loop) typeText(s string) {
	l.t.Helper()
	for _, r := range s {
		l.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func (l *loop) screen() string {
	lines := strings.Split(ansi.Strip(l.app.View()), "\n")
	for i, s := range lines {
		lines[i] = strings.TrimRight(s, " ")
	}
	return strings.Join(lines, "\n")
}

// tab shows the screen with that title.
func (l *loop) tab(title string) {
	l.t.Helper()
	for i, s := range l.app.screens {
		if s.Title() == title {
			l.keys(fmt.Sprint(i + 1))
			if l.app.active != i {
				l.t.Fatalf("key %d did not show %s", i+1, title)
			}
			return
		}
	}
	l.t.Fatalf("no screen %q", title)
}

func (l *loop) buildScreen() *buildScreen   { return l.app.screens[1].(*buildScreen) }
func (l *loop) launchScreen() *launchScreen { return l.app.screens[2].(*launchScreen) }
func (l *loop) attestScreen() *attestScreen { return l.app.screens[3].(*attestScreen) }

// --- A fake build back end -------------------------------------------------

type fakeBuild struct {
	mu      sync.Mutex
	check   BuildCheck
	images  workspace.ImagesState
	runs    []*fakeRun
	started chan *fakeRun
}

func newFakeBuild() *fakeBuild {
	return &fakeBuild{
		check:   BuildCheck{Buildroot: "/br", Output: "/out", Config: workspace.ConfigState{Path: "/out/.config", Exists: true}},
		started: make(chan *fakeRun, 8),
	}
}

func (f *fakeBuild) Check() BuildCheck {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.check
}

func (f *fakeBuild) Start(targets []string, cols, rows int) (BuildRun, error) {
	r := &fakeRun{targets: targets, cols: cols, rows: rows, updates: make(chan struct{}, 1)}
	r.snap = build.Snapshot{Phase: build.Running, Targets: targets, LogPath: "/out/cube-hal-build.log", ETA: -1, Percent: -1}
	f.mu.Lock()
	f.runs = append(f.runs, r)
	f.mu.Unlock()
	f.started <- r
	return r, nil
}

func (f *fakeBuild) Images() workspace.ImagesState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.images
}

// next waits for the screen to start a build.
func (f *fakeBuild) next(t *testing.T, l *loop) *fakeRun {
	t.Helper()
	var r *fakeRun
	l.until("a build to start", func() bool {
		select {
		case r = <-f.started:
			return true
		default:
			return false
		}
	})
	return r
}

// fakeRun is a build the test drives: it sets snapshots and output.
type fakeRun struct {
	mu         sync.Mutex
	targets    []string
	snap       build.Snapshot
	lines      []string
	cols, rows int
	updates    chan struct{}
	closed     bool
	cancelled  bool
	killed     bool
	holdCancel bool
}

func (r *fakeRun) Updates() <-chan struct{} { return r.updates }

func (r *fakeRun) Snapshot() build.Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.snap
}

func (r *fakeRun) Screen(rows int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines[max(0, len(r.lines)-rows):]...)
}

func (r *fakeRun) Resize(cols, rows int) error {
	r.mu.Lock()
	r.cols, r.rows = cols, rows
	r.mu.Unlock()
	return nil
}

// Cancel ends the build as cancelled a moment later, as make would,
// unless the test holds it to look at the screen meanwhile.
func (r *fakeRun) Cancel() {
	r.mu.Lock()
	r.cancelled = true
	hold := r.holdCancel
	r.mu.Unlock()
	if !hold {
		time.AfterFunc(20*time.Millisecond, func() { r.finish(func(s *build.Snapshot) { s.Phase = build.Cancelled }) })
	}
}

func (r *fakeRun) Kill() {
	r.mu.Lock()
	r.killed = true
	r.mu.Unlock()
	r.finish(func(s *build.Snapshot) { s.Phase = build.Cancelled })
}

// update changes the build's state and signals it.
func (r *fakeRun) update(f func(s *build.Snapshot, lines *[]string)) {
	r.mu.Lock()
	f(&r.snap, &r.lines)
	r.mu.Unlock()
	select {
	case r.updates <- struct{}{}:
	default:
	}
}

// finish sets the final state and ends the build.
func (r *fakeRun) finish(f func(s *build.Snapshot)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	f(&r.snap)
	r.closed = true
	close(r.updates)
}

func (r *fakeRun) wasCancelled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cancelled
}

// --- A fake launch back end ------------------------------------------------

// tcgHost is a host that runs plain VMs under TCG only, as CI does.
func tcgHost() launch.HostFacts {
	return launch.HostFacts{
		CPU:  host.CPU{Vendor: "AuthenticAMD", ModelName: "Test CPU"},
		KVM:  host.KVM{Why: "/dev/kvm is missing"},
		QEMU: host.QEMU{Name: "qemu-system-x86_64", Path: "/usr/bin/qemu-system-x86_64", Version: host.Version{Major: 7, Minor: 2}},
	}
}

type fakeLaunch struct {
	mu       sync.Mutex
	facts    launch.HostFacts
	images   launch.Images
	imgErr   error
	running  *fakeVM
	startErr error
	starts   []launch.Config
	vm       *fakeVM // the next VM Start returns
}

func (f *fakeLaunch) Facts(context.Context) launch.HostFacts { return f.facts }

func (f *fakeLaunch) Images() (launch.Images, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.images, f.imgErr
}

func (f *fakeLaunch) Start(ctx context.Context, cfg launch.Config, progress func(string)) (VM, error) {
	progress("starting QEMU (" + string(cfg.Mode) + ", tcg)")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, cfg)
	if f.startErr != nil {
		return nil, f.startErr
	}
	vm := f.vm
	if vm == nil {
		vm = newFakeVM(cfg.Name)
	}
	vm.rec.Mode = cfg.Mode
	f.running = vm
	return vm, nil
}

func (f *fakeLaunch) Running(context.Context) (VM, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running != nil {
		return f.running, nil
	}
	return nil, nil
}

func (f *fakeLaunch) startCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts)
}

// fakeVM is a VM whose serial console the test writes, whose SSH is a
// small shell in a pty, and which stops when asked.
type fakeVM struct {
	mu       sync.Mutex
	rec      launch.Record
	running  bool
	sshReady bool
	stops    int
	serialR  *io.PipeReader
	serialW  *io.PipeWriter
	shell    string
	sshErr   error         // SSHCommand fails with it
	stopGate chan struct{} // Stop waits for it to close (nil: no wait)
}

// fakeShell answers each line typed with "ran: <line>", like a guest
// shell would run it; a line ending in "exit" ends it. Like ssh, it takes
// ctrl+c as a byte (-isig), not as a signal.
const fakeShell = `stty -echo -isig; while printf 'root@fake:~# '; IFS= read -r l; do case $l in *exit) exit 0;; esac; printf 'ran: %s\n' "$l"; done`

func newFakeVM(name string) *fakeVM {
	r, w := io.Pipe()
	return &fakeVM{
		rec: launch.Record{Name: name, Mode: launch.ModePlain, Accel: launch.AccelTCG, PID: 4242,
			Ports: launch.Ports{SSH: 6190, Agent: 6193, GuestAgent: 7001}, Started: time.Now()},
		running: true, serialR: r, serialW: w, shell: fakeShell,
	}
}

func (v *fakeVM) Record() launch.Record { return v.rec }

func (v *fakeVM) Status(context.Context) launch.VMStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	st := launch.VMStatus{Name: v.rec.Name, Mode: v.rec.Mode, Accel: v.rec.Accel, Running: v.running, PID: v.rec.PID,
		Ports: v.rec.Ports, Started: v.rec.Started, State: launch.StateRunning, QMPStatus: "running", Uptime: 42 * time.Second}
	if !v.running {
		st.State, st.QMPStatus, st.Uptime, st.PID = launch.StateExited, "", 0, 0
	}
	return st
}

func (v *fakeVM) FollowSerial(context.Context) (io.ReadCloser, error) { return v.serialR, nil }

func (v *fakeVM) SSHReady(context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.sshReady {
		return errors.New("no banner yet")
	}
	return nil
}

func (v *fakeVM) setSSHReady() {
	v.mu.Lock()
	v.sshReady = true
	v.mu.Unlock()
}

func (v *fakeVM) SSHCommand() (*exec.Cmd, error) {
	if v.sshErr != nil {
		return nil, v.sshErr
	}
	cmd := exec.Command("/bin/sh", "-c", v.shell)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	return cmd, nil
}

func (v *fakeVM) SSHHint(out string) string {
	if strings.Contains(out, "Permission denied") {
		return "the guest refused the key"
	}
	return ""
}

func (v *fakeVM) Stop(context.Context, launch.StopOptions) (launch.StopResult, error) {
	if v.stopGate != nil {
		<-v.stopGate
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stops++
	v.running = false
	v.serialW.Close()
	return launch.StopResult{How: "powerdown", Took: 1500 * time.Millisecond}, nil
}

func (v *fakeVM) stopCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stops
}

// --- A fake attest back end ------------------------------------------------

type fakeAttest struct {
	mu    sync.Mutex
	opts  []verify.Options
	res   *verify.Result
	err   error
	calls chan verify.Options
}

func (f *fakeAttest) Attest(ctx context.Context, opts verify.Options) (*verify.Result, error) {
	f.mu.Lock()
	f.opts = append(f.opts, opts)
	res, err := f.res, f.err
	f.mu.Unlock()
	return res, err
}

func (f *fakeAttest) last(t *testing.T) verify.Options {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.opts) == 0 {
		t.Fatal("Attest was not called")
	}
	return f.opts[len(f.opts)-1]
}

// fakeBackends are all three fakes, with a TCG host and images.
type fakeBackends struct {
	build  *fakeBuild
	launch *fakeLaunch
	attest *fakeAttest
}

func newFakeBackends(t *testing.T) fakeBackends {
	testenv.Tool(t, "sh")
	return fakeBackends{
		build:  newFakeBuild(),
		launch: &fakeLaunch{facts: tcgHost(), images: launch.Images{Kernel: "/out/images/bzImage", Initrd: "/out/images/rootfs.cpio.gz"}},
		attest: &fakeAttest{},
	}
}

func (f fakeBackends) options() Options {
	return Options{Backends: Backends{Build: f.build, Launch: f.launch, Attest: f.attest}, Context: "test"}
}
