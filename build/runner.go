package build

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/ultravioletrs/cube-hal/cubecfg"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// LogName is the build log's file name in the output directory. It holds
// every byte make wrote, between a header and a trailer written by cube-hal
// (lines starting with "=== "); the previous build's log is kept as
// LogName+".old".
const LogName = "cube-hal-build.log"

// logBodyStart ends the log header; the raw output follows it.
const logBodyStart = "=== output follows ===\n"

// ErrNoConfig is returned by Start when the goals need a .config and the
// output directory has none.
var ErrNoConfig = errors.New("no Buildroot configuration")

// ErrBusy is returned by Start when another build (from this process or
// another cube-hal) is running in the same output directory: two makes in
// one output directory corrupt it.
var ErrBusy = errors.New("another build is running in this output directory")

// lockName is the lock file in the output directory, held (flock) for a
// build's life; it holds the PID of the cube-hal that runs the build.
const lockName = ".cube-hal-build.lock"

// Options say what to build and how.
type Options struct {
	// Workspace gives BuildrootDir (where make runs), OutputDir (O=),
	// ExternalDir (BR2_EXTERNAL=, when set) and Jobs.
	Workspace *workspace.Workspace
	// Targets are make goals: none for the whole image, or "clean",
	// "distclean", "source", "<pkg>", "<pkg>-rebuild", ...
	Targets []string
	// Jobs overrides Workspace.Jobs when > 0. With N > 0 make runs with -jN
	// and BR2_JLEVEL=N; with 0, the .config's BR2_JLEVEL applies (0 there
	// means one more job than CPUs).
	Jobs int
	// Cols and Rows size the pty (default 80×24); Resize changes them.
	Cols, Rows int
	// Env is the environment make starts from (default os.Environ()); it
	// is cleaned with CleanEnv.
	Env []string
	// Make is the make program (default "make").
	Make string
	// Grace is how long each cancel stage waits before the next signal
	// (SIGINT, then SIGTERM, then SIGKILL); default 5s.
	Grace time.Duration
}

// Build is a running (or finished) build. All methods are safe for
// concurrent use.
type Build struct {
	opts   Options
	jobs   int
	m      *model
	logF   *os.File
	lock   *os.File
	cols   atomic.Int32
	rows   atomic.Int32
	ptyMu  sync.Mutex
	ptmx   *os.File
	cancel chan struct{}
	kill   chan struct{}
	cOnce  sync.Once
	kOnce  sync.Once
	done   chan struct{}
}

// Start checks the request, opens the log and starts the build in the
// background; it returns at once. Errors are about the request (no
// Buildroot tree, no .config, an interactive goal): once Start returns a
// Build, every outcome, including make failing to start, is reported by
// Wait and Snapshot.
func Start(opts Options) (*Build, error) {
	w := opts.Workspace
	if w == nil {
		return nil, errors.New("build: no workspace")
	}
	if err := w.RequireBuildroot(); err != nil {
		return nil, err
	}
	if w.OutputDir == "" {
		return nil, errors.New("build: the workspace has no output directory")
	}
	if err := CheckTargets(opts.Targets); err != nil {
		return nil, err
	}
	if needsConfig(opts.Targets) && !fileExists(w.ConfigFile()) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoConfig, w.ConfigFile())
	}
	if err := os.MkdirAll(w.OutputDir, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	lock, err := lockOutput(w.OutputDir)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(w.OutputDir, LogName)
	if fileExists(logPath) {
		if err := os.Rename(logPath, logPath+".old"); err != nil {
			lock.Close()
			return nil, fmt.Errorf("keeping the previous log: %w", err)
		}
	}
	logF, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("build log: %w", err)
	}
	if opts.Cols <= 0 {
		opts.Cols = 80
	}
	if opts.Rows <= 0 {
		opts.Rows = 24
	}
	if opts.Grace <= 0 {
		opts.Grace = 5 * time.Second
	}
	if opts.Make == "" {
		opts.Make = "make"
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	b := &Build{
		opts:   opts,
		jobs:   w.Jobs,
		m:      newModel(append([]string(nil), opts.Targets...), logPath, w.OutputDir, time.Now()),
		logF:   logF,
		lock:   lock,
		cancel: make(chan struct{}),
		kill:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if opts.Jobs > 0 {
		b.jobs = opts.Jobs
	}
	b.cols.Store(int32(opts.Cols))
	b.rows.Store(int32(opts.Rows))
	go b.run()
	return b, nil
}

// Snapshot returns a consistent copy of the build's state.
func (b *Build) Snapshot() Snapshot {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	s := b.m.snapshot(time.Now())
	s.Cancelling = b.cancelled() && !s.Phase.Finished()
	return s
}

// Updates signals that the state changed. It has one slot: a burst of
// changes is one signal, and a consumer that reads it late still gets the
// latest state from Snapshot. The producer never waits for the consumer.
// The channel is closed once the build is over and its final state is set.
func (b *Build) Updates() <-chan struct{} { return b.m.updates }

// Done is closed when the build is over (the same moment Updates closes).
func (b *Build) Done() <-chan struct{} { return b.done }

// Wait blocks until the build is over and returns its final state.
func (b *Build) Wait() Snapshot {
	<-b.done
	return b.Snapshot()
}

// Cancel stops the build: SIGINT to make's process group (what Ctrl-C
// would do), SIGTERM after the grace period, SIGKILL after another; then
// every process left in make's session is ended. Calling it again does
// nothing more; Kill skips the waiting.
func (b *Build) Cancel() { b.cOnce.Do(func() { close(b.cancel) }) }

// Kill stops the build at once with SIGKILL (a second Ctrl-C).
func (b *Build) Kill() {
	b.Cancel()
	b.kOnce.Do(func() { close(b.kill) })
}

// Resize changes the pty size (make's children see SIGWINCH) and the width
// Screen renders at.
func (b *Build) Resize(cols, rows int) error {
	if cols < 1 || rows < 1 {
		return fmt.Errorf("build: bad size %dx%d", cols, rows)
	}
	b.cols.Store(int32(cols))
	b.rows.Store(int32(rows))
	b.ptyMu.Lock()
	defer b.ptyMu.Unlock()
	if b.ptmx == nil {
		return nil
	}
	return pty.Setsize(b.ptmx, &pty.Winsize{Rows: uint16(rows), Cols: uint16(cols)})
}

// Screen renders the last rows lines of output as a terminal of the pty's
// width shows them (through a VT emulator: colours kept as SGR sequences,
// carriage-return progress collapsed). Lines are not padded; there are
// fewer than rows at the start of a build.
func (b *Build) Screen(rows int) []string {
	b.m.mu.Lock()
	tail := b.m.tail.lastLines(rows)
	b.m.mu.Unlock()
	return renderScreen(tail, int(b.cols.Load()), rows)
}

// Events returns the journal entries with Seq >= since (a consumer keeps
// the Seq after the last one it saw). The journal keeps the latest 32768
// or more entries; older ones are dropped.
func (b *Build) Events(since int) []Event {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	i := since - b.m.eventBase
	if i < 0 {
		i = 0
	}
	if i >= len(b.m.events) {
		return nil
	}
	return append([]Event(nil), b.m.events[i:]...)
}

// LogPath is the full build log.
func (b *Build) LogPath() string { return b.m.logPath }

func (b *Build) cancelled() bool {
	select {
	case <-b.cancel:
		return true
	default:
		return false
	}
}

var errCancelled = errors.New("cancelled")

// lockOutput takes the output directory's build lock, or fails with ErrBusy
// naming the cube-hal process that holds it. The lock is an flock, so it
// goes away with its process, however that ends.
func lockOutput(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("build lock: %w", err)
	}
	if err := flockWait(f, lockPatience); err != nil {
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return f, nil // a file system without locks (some NFS): build unguarded
		}
		holder, _ := io.ReadAll(f)
		f.Close()
		return nil, fmt.Errorf("%w: %s (cube-hal process %s)", ErrBusy, dir, strings.TrimSpace(string(holder)))
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, nil
}

// lockPatience is how long Start waits for a held lock before it reports
// ErrBusy. A lock its build has already released can still be held for a
// moment: any process this one forks (another build, a VM, ssh) gets a copy
// of the lock's descriptor that lives until its exec closes it, and a
// second build started at once from the same process lands in that window.
const lockPatience = time.Second

// flockWait takes an exclusive flock on f, trying again every 20 ms for up
// to patience while another holds it; it returns EWOULDBLOCK if the lock is
// still held then.
func flockWait(f *os.File, patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run is the build's supervisor goroutine.
func (b *Build) run() {
	defer close(b.done)
	w := b.opts.Workspace
	m := b.m
	lw := &logWriter{f: b.logF}

	env, envNotes := CleanEnv(b.opts.Env)
	m.mu.Lock()
	for _, n := range envNotes {
		m.note(time.Now(), n)
	}
	m.mu.Unlock()
	m.notify()

	var cfg cubecfg.Values
	if fileExists(w.ConfigFile()) {
		var err error
		if cfg, err = cubecfg.ReadConfig(w.ConfigFile()); err != nil {
			b.noteNow(fmt.Sprintf("could not read the configuration: %v", err))
		}
	}

	if needsPlan(b.opts.Targets) {
		info, err := b.showInfo(env)
		if errors.Is(err, errCancelled) {
			b.finish(lw, -1, nil, "before make started")
			return
		}
		if err != nil {
			b.noteNow(fmt.Sprintf("no package list, so no total or percentage: %v", err))
		} else {
			histPath := filepath.Join(w.OutputDir, "build", "build-time.log")
			hist, err := readHistory(histPath)
			if err != nil {
				b.noteNow(fmt.Sprintf("ignoring the earlier build times: %v", err))
				hist = &History{}
			}
			m.mu.Lock()
			m.setPlan(info, planFor(b.opts.Targets, info), hist)
			m.mu.Unlock()
			m.notify()
		}
	}
	if b.cancelled() {
		b.finish(lw, -1, nil, "before make started")
		return
	}

	// The instrumentation hook and the FIFO it reports to.
	var script string
	var events *eventReader
	if dir, s, fifo, err := instrumentDir(); err != nil {
		b.noteNow(fmt.Sprintf("no step events (progress from the >>> lines only): %v", err))
	} else {
		defer os.RemoveAll(dir)
		if events, err = openEvents(fifo, m); err != nil {
			b.noteNow(fmt.Sprintf("no step events (progress from the >>> lines only): %v", err))
		} else {
			script = s
			env = append(env, EventsEnv+"="+fifo)
		}
	}

	args := b.makeArgs(cfg, script)
	m.mu.Lock()
	m.command = append([]string{b.opts.Make}, args...)
	m.mu.Unlock()
	b.writeHeader(lw, env)

	ptmx, tty, err := pty.Open()
	if err == nil {
		if err = rawOutput(tty); err == nil {
			err = pty.Setsize(ptmx, &pty.Winsize{Rows: uint16(b.rows.Load()), Cols: uint16(b.cols.Load())})
		}
		if err != nil {
			ptmx.Close()
			tty.Close()
		}
	}
	if err != nil {
		if events != nil {
			events.close()
		}
		b.finish(lw, -1, fmt.Errorf("could not open a pty: %w", err), "")
		return
	}
	cmd := exec.Command(b.opts.Make, args...)
	cmd.Dir = w.BuildrootDir
	cmd.Env = env
	// Output goes to the pty; input comes from /dev/null. Nobody types into
	// a build, and a tty on stdin makes Kconfig's syncconfig stop and ask
	// about every NEW symbol (a .config from before an external tree was
	// added, or from another Buildroot version): with no terminal there it
	// takes the defaults, as in any unattended build.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1}
	err = cmd.Start()
	tty.Close()
	if err != nil {
		ptmx.Close()
		if events != nil {
			events.close()
		}
		b.finish(lw, -1, fmt.Errorf("could not start %s: %w", b.opts.Make, err), "")
		return
	}
	b.ptyMu.Lock()
	b.ptmx = ptmx
	b.ptyMu.Unlock()
	m.mu.Lock()
	m.phase = Running
	m.pid = cmd.Process.Pid
	m.mu.Unlock()
	m.notify()

	// The pty is drained by its own goroutine, always: the log and the
	// model are updated as fast as make writes, whoever watches.
	sink := newLogSink(lw)
	pipe := &pipeline{log: sink, m: m}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 32<<10)
		for {
			n, err := ptmx.Read(buf)
			if n > 0 {
				pipe.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	stopPoll, pollDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pollDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopPoll:
				return
			case <-t.C:
				m.mu.Lock()
				m.pollStamps(time.Now(), false)
				m.mu.Unlock()
				m.notify()
			}
		}
	}()

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	cancelNote := b.supervise(pgid, exited)
	code := exitStatus(cmd.ProcessState)

	// Whatever make left behind (a daemon, a stuck child) goes too.
	if left, killed := sweepSession(pgid, b.opts.Grace); left > 0 {
		how := "SIGTERM"
		if killed {
			how = "SIGTERM, then SIGKILL"
		}
		b.noteNow(fmt.Sprintf("ended %d process(es) make left behind (%s)", left, how))
	}
	select {
	case <-readerDone:
	case <-time.After(3 * time.Second):
		// Something outside the session still holds the pty open.
		b.noteNow("the pty stayed open after make exited; closed it")
		ptmx.Close()
		<-readerDone
	}
	close(stopPoll)
	<-pollDone // nothing may notify once finish closes Updates
	ptmx.Close()
	b.ptyMu.Lock()
	b.ptmx = nil
	b.ptyMu.Unlock()
	if events != nil {
		events.finish()
	}
	if err := sink.Close(); err != nil {
		b.noteNow(fmt.Sprintf("the log could not be written completely: %v", err))
	}
	lw.last = pipe.last
	b.finish(lw, code, nil, cancelNote)
}

// supervise waits for make to exit, walking the cancel stages when asked:
// SIGINT to make's process group (as Ctrl-C in a terminal would), SIGTERM
// after the grace period, then SIGKILL to every process of the session. It
// returns what was sent, for the log.
func (b *Build) supervise(pgid int, exited <-chan error) string {
	select {
	case <-exited:
		return ""
	case <-b.cancel:
	}
	start := time.Now()
	var sent []string
	send := func(sig syscall.Signal, name string) {
		if sig == syscall.SIGKILL {
			signalSession(pgid, sig)
		} else {
			_ = syscall.Kill(-pgid, sig)
		}
		if len(sent) == 0 {
			sent = append(sent, name+" to make's process group")
		} else {
			sent = append(sent, fmt.Sprintf("%s after %s", name, time.Since(start).Round(100*time.Millisecond)))
		}
	}
stages:
	for _, st := range []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGINT, "SIGINT"}, {syscall.SIGTERM, "SIGTERM"}} {
		send(st.sig, st.name)
		t := time.NewTimer(b.opts.Grace)
		select {
		case <-exited:
			t.Stop()
			return strings.Join(sent, ", then ")
		case <-b.kill:
			t.Stop()
			break stages
		case <-t.C:
		}
	}
	send(syscall.SIGKILL, "SIGKILL")
	<-exited
	return strings.Join(sent, ", then ")
}

// exitStatus is make's exit code, or 128+N when signal N killed it.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func (b *Build) makeArgs(cfg cubecfg.Values, script string) []string {
	var args []string
	if b.jobs > 0 {
		args = append(args, fmt.Sprintf("-j%d", b.jobs), fmt.Sprintf("BR2_JLEVEL=%d", b.jobs))
	}
	args = append(args, b.workspaceVars()...)
	if script != "" {
		// A command-line value replaces the .config's: keep the user's hooks.
		scripts := strings.TrimSpace(cfg["BR2_INSTRUMENTATION_SCRIPTS"] + " " + script)
		args = append(args, "BR2_INSTRUMENTATION_SCRIPTS="+scripts)
	}
	return append(args, b.opts.Targets...)
}

// workspaceVars are the make variables that point Buildroot at the
// workspace: the output directory, the external tree and, for the Cube
// tree's cube-agent.mk and external.mk, cube-hal's source (the agent is
// built from it) and the rootfs overlay (certificates and SSH key).
func (b *Build) workspaceVars() []string {
	w := b.opts.Workspace
	vars := []string{"O=" + w.OutputDir}
	if w.ExternalDir != "" {
		vars = append(vars, "BR2_EXTERNAL="+w.ExternalDir)
	}
	if w.SourceDir != "" {
		vars = append(vars, "CUBE_HAL_DIR="+w.SourceDir)
	}
	if w.OverlayDir != "" {
		vars = append(vars, "CUBE_HAL_OVERLAY="+w.OverlayDir)
	}
	return vars
}

// showInfo runs `make -s show-info` for the package list. It runs in its own
// process group so Cancel can stop it.
func (b *Build) showInfo(env []string) (map[string]*PackageInfo, error) {
	w := b.opts.Workspace
	args := append([]string{"-s", "--no-print-directory"}, b.workspaceVars()...)
	args = append(args, "show-info")
	var out, errb bytes.Buffer
	cmd := exec.Command(b.opts.Make, args...)
	cmd.Dir = w.BuildrootDir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("make show-info: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			msg := strings.TrimSpace(errb.String())
			if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
				msg = msg[i+1:]
			}
			return nil, fmt.Errorf("make show-info: %v: %s", err, msg)
		}
	case <-b.cancel:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
		// make's children are killed too but may still be exiting; none
		// may outlive the build.
		waitSessionGone(cmd.Process.Pid, 5*time.Second)
		return nil, errCancelled
	}
	return ParseShowInfo(out.Bytes())
}

func (b *Build) noteNow(s string) {
	b.m.mu.Lock()
	b.m.note(time.Now(), s)
	b.m.mu.Unlock()
	b.m.notify()
}

func (b *Build) writeHeader(lw *logWriter, env []string) {
	w := b.opts.Workspace
	m := b.m
	m.mu.Lock()
	cmdline := shellJoin(m.command)
	notes := append([]string(nil), m.notes...)
	started := m.started
	m.mu.Unlock()
	var h strings.Builder
	fmt.Fprintf(&h, "=== cube-hal build, started %s ===\n", started.Format(time.RFC3339))
	fmt.Fprintf(&h, "=== buildroot: %s\n=== output:    %s\n", w.BuildrootDir, w.OutputDir)
	if cmdline != "" {
		fmt.Fprintf(&h, "=== command:   cd %s && %s\n", shellQuote(w.BuildrootDir), cmdline)
	} else {
		h.WriteString("=== command:   none, make was not started\n")
	}
	for _, n := range notes {
		fmt.Fprintf(&h, "=== note: %s\n", n)
	}
	h.WriteString(logBodyStart)
	lw.header(h.String(), len(notes))
}

// finish records the outcome, writes the log trailer and closes Updates.
func (b *Build) finish(lw *logWriter, code int, startErr error, cancelNote string) {
	m := b.m
	now := time.Now()
	m.mu.Lock()
	if !lw.started {
		m.mu.Unlock()
		b.writeHeader(lw, nil)
		m.mu.Lock()
	}
	m.exitCode = code
	m.ended = now
	m.pollStamps(now, true)
	elapsed := now.Sub(m.started).Round(100 * time.Millisecond)
	var trailer []string
	switch {
	case b.cancelled():
		m.phase = Cancelled
		t := fmt.Sprintf("build cancelled after %s", elapsed)
		if cancelNote != "" {
			t += " (" + cancelNote + ")"
		}
		if code >= 0 {
			t += fmt.Sprintf("; make exited with status %d", code)
		}
		trailer = append(trailer, t)
	case startErr == nil && code == 0:
		m.phase = Succeeded
		done, total := m.progressCounts()
		t := fmt.Sprintf("build succeeded in %s", elapsed)
		if total > 0 {
			t += fmt.Sprintf(" (%d/%d packages, %d warnings)", done, total, m.warnings)
		}
		trailer = append(trailer, t)
	default:
		m.phase = Failed
		f := m.buildFailure(b.dlDir())
		if startErr != nil {
			f.Hint = startErr.Error()
			if errors.Is(startErr, exec.ErrNotFound) || errors.Is(startErr, fs.ErrNotExist) {
				f.Cause = CauseMissingTool
				f.Hint = fmt.Sprintf("%v: install make (Debian: apt-get install make)", startErr)
			}
		}
		m.failure = f
		t := fmt.Sprintf("build failed after %s", elapsed)
		if code >= 0 {
			t += fmt.Sprintf(": make exited with status %d", code)
		}
		if f.Package != "" {
			t += fmt.Sprintf("; failing package %s, step %s", f.Package, f.Step)
		} else if f.Step != "" {
			t += fmt.Sprintf("; failing step: %s", f.Step)
		}
		trailer = append(trailer, t, "hint: "+f.Hint)
	}
	for _, n := range m.notes[lw.notesLogged:] {
		trailer = append(trailer, "note: "+n)
	}
	m.mu.Unlock()
	lw.trailer(trailer)
	b.logF.Close()
	b.lock.Close() // releases the flock
	m.notify()
	close(m.updates)
}

// dlDir is where Buildroot keeps downloads: $BR2_DL_DIR, else the
// .config's BR2_DL_DIR with its make variables expanded.
func (b *Build) dlDir() string {
	for _, kv := range b.opts.Env {
		if v, ok := strings.CutPrefix(kv, "BR2_DL_DIR="); ok && v != "" {
			return v
		}
	}
	w := b.opts.Workspace
	cfg, err := cubecfg.ReadConfig(w.ConfigFile())
	if err != nil || cfg["BR2_DL_DIR"] == "" {
		return ""
	}
	return strings.NewReplacer("$(TOPDIR)", w.BuildrootDir, "$(BASE_DIR)", w.OutputDir,
		"$(CONFIG_DIR)", w.OutputDir, "$(O)", w.OutputDir).Replace(cfg["BR2_DL_DIR"])
}

// buildFailure works out which package and step failed. mu held.
func (m *model) buildFailure(dlDir string) *Failure {
	f := &Failure{LogPath: m.logPath}
	var st *pkgState
	var step string
	for i := len(m.makeErrs) - 1; i >= 0; i-- {
		e := m.makeErrs[i]
		if e.Dir == "" {
			continue
		}
		f.MakeError = e.Line
		if p := m.findByDir(e.Dir); p != nil {
			st, step = p, e.Step
		}
		break
	}
	if f.MakeError == "" && len(m.makeErrs) > 0 {
		f.MakeError = m.makeErrs[len(m.makeErrs)-1].Line
	}
	// An instrumentation step that started and never ended.
	var openPkg *pkgState
	var openStep string
	var openAt time.Time
	for _, p := range m.pkgs {
		for s, at := range p.open {
			if openPkg == nil || at.After(openAt) {
				openPkg, openStep, openAt = p, s, at
			}
		}
	}
	switch {
	case st != nil:
		for s := range st.open {
			step = s
		}
	case openPkg != nil:
		st, step = openPkg, openStep
	}
	if st != nil {
		st.Status = Broken
		f.Package, f.Version, f.Step, f.Label = st.Name, st.Version, step, st.Label
		if st.ring != nil {
			f.Lines = st.ring.text()
		}
	} else if m.global != "" {
		f.Step = m.global
		f.Lines = m.globalRing.text()
	}
	tail := strings.Split(string(m.tail.lastLines(60)), "\n")
	for i, l := range tail {
		tail[i] = displayText([]byte(l))
	}
	if len(f.Lines) == 0 {
		f.Lines = tail[max(0, len(tail)-ringLines):]
	}
	diagnose(f, tail, m.makeStop, m.outputDir, dlDir)
	return f
}

// pipeline is the output path: pty bytes → log (a logSink) → line parser →
// model. Its Write never fails and never waits for a consumer of the model.
type pipeline struct {
	log    io.Writer
	m      *model
	last   byte
	logErr error
}

func (p *pipeline) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if p.logErr == nil {
		if _, err := p.log.Write(b); err != nil {
			p.logErr = err
		}
	}
	p.last = b[len(b)-1]
	p.m.mu.Lock()
	p.m.scan(b)
	p.m.mu.Unlock()
	p.m.notify()
	return len(b), nil
}

// logWriter writes the log file: header, raw body, trailer.
type logWriter struct {
	f           *os.File
	started     bool
	last        byte
	notesLogged int
}

func (l *logWriter) header(h string, notes int) {
	l.started = true
	l.notesLogged = notes
	l.f.WriteString(h)
	l.last = '\n'
}

func (l *logWriter) Write(b []byte) (int, error) { return l.f.Write(b) }

func (l *logWriter) trailer(lines []string) {
	var t strings.Builder
	if l.last != '\n' && l.last != 0 {
		t.WriteByte('\n')
	}
	for _, s := range lines {
		fmt.Fprintf(&t, "=== cube-hal: %s\n", s)
	}
	l.f.WriteString(t.String())
}

// eventReader reads the instrumentation FIFO into the model.
type eventReader struct {
	r, keep *os.File
	done    chan struct{}
}

// openEvents opens the FIFO for reading (non-blocking open, so no writer is
// needed yet) and keeps a write end open so the reader sees no end of file
// between two scripts; finish closes it and drains what is left.
func openEvents(fifo string, m *model) (*eventReader, error) {
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	keep, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		r.Close()
		return nil, err
	}
	e := &eventReader{r: r, keep: keep, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if strings.TrimSpace(line) != "" {
				if ev, perr := ParseStepEvent(line); perr == nil {
					m.mu.Lock()
					m.stepEvent(ev, time.Now())
					m.mu.Unlock()
					m.notify()
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return e, nil
}

// finish closes the keep-alive writer and waits for the reader to drain the
// FIFO (every script has exited by now, so end of file follows).
func (e *eventReader) finish() {
	e.keep.Close()
	select {
	case <-e.done:
	case <-time.After(3 * time.Second):
		e.r.Close()
		<-e.done
	}
	e.r.Close()
}

func (e *eventReader) close() {
	e.keep.Close()
	e.r.Close()
	<-e.done
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`;&|<>()*?[]#~!{}") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
