package launch

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ultravioletrs/cube-hal/launch/qmp"
)

// Wait conditions for Start.
const (
	WaitQMP = "qmp" // QEMU answers on QMP and reports the VM running
	WaitSSH = "ssh" // and the guest's SSH server sends its banner
)

// Options are the inputs of Start beyond the QEMU configuration.
type Options struct {
	Config Config
	// RunDir holds one directory per VM (workspace.RunDir()).
	RunDir string
	// AutoPorts picks free host ports instead of failing when the
	// configured ones are taken.
	AutoPorts bool
	// Wait is WaitQMP (default) or WaitSSH.
	Wait string
	// WaitTimeout bounds the whole start (default 3 minutes).
	WaitTimeout time.Duration
	// Attached keeps the VM tied to the caller: if the calling process dies
	// the VM is killed, until VM.Detach. Tests use it; the CLI does not.
	Attached bool
	// KnownHostsFile is cube-hal's known_hosts (workspace.KnownHostsFile()):
	// the previous run's host key of this VM is forgotten there, because the
	// image makes new host keys at every boot (see HostKeyAlias).
	KnownHostsFile string
	// Prober gathers host facts (default HostProbe{}); tests inject fakes.
	Prober Prober
	// Progress, when set, receives one-line progress messages.
	Progress func(string)
	// ExpectedMeasurement is the SEV-SNP launch digest of Config when the
	// caller has computed it already (Config.ExpectedSNPMeasurement); nil
	// lets Start compute it. It goes into the run record.
	ExpectedMeasurement []byte
}

// StartError is a failed start: what went wrong, QEMU's own output when
// it ran, and the command line, so the user sees QEMU's words as they are.
type StartError struct {
	Err         error
	QEMUOutput  string // QEMU's stdout/stderr (qemu.log)
	CommandLine string // the QEMU command line, shell-quoted
	SerialTail  string // the last lines of the serial console
	RunDir      string
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// ErrRunning is returned when a VM of that name is already running.
var ErrRunning = errors.New("already running")

// ErrRefused wraps a Verdict's reasons: the host cannot run the mode.
var ErrRefused = errors.New("host cannot run this mode")

// RefusedError carries the verdict for callers that list the reasons.
type RefusedError struct{ Verdict Verdict }

func (e *RefusedError) Error() string { return e.Verdict.Error().Error() }
func (e *RefusedError) Unwrap() error { return ErrRefused }

// PortError is a host port that is already taken.
type PortError struct {
	Which string // "ssh" or "agent"
	Port  int
	Err   error
}

func (e *PortError) Error() string {
	return fmt.Sprintf("%s port %d on 127.0.0.1 is already in use (%v)", e.Which, e.Port, e.Err)
}

// Prepare applies defaults, validates cfg, checks the host and resolves the
// accelerator: everything Start does before touching the run directory.
// The TUI uses it to show what would run.
func Prepare(ctx context.Context, cfg Config, prober Prober) (Config, Verdict, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, Verdict{}, err
	}
	if prober == nil {
		prober = HostProbe{}
	}
	facts := prober.Facts(ctx, cfg.QEMU, cfg.Mode != ModePlain)
	v := Assess(facts, cfg.Mode, cfg.Firmware, cfg.Accel)
	if cfg.Mode == ModeSNP && cfg.SNP.KernelHashes && cfg.Firmware != "" {
		if err := CheckKernelHashes(cfg.Firmware); err != nil {
			v.Reasons = append(v.Reasons, err.Error())
			v.OK = false
		}
	}
	if !v.OK {
		return cfg, v, &RefusedError{Verdict: v}
	}
	cfg.Accel = v.Accel
	if facts.QEMU.Found() {
		cfg.QEMU = facts.QEMU.Path
	}
	return cfg, v, nil
}

// newRecord is the run record of a VM about to start with cfg and its
// QEMU args: for SEV-SNP with the launch digest its reports must carry
// (measurement, when the caller computed it already).
func newRecord(cfg Config, args []string, v Verdict, measurement []byte) Record {
	rec := Record{
		Name: cfg.Name, Mode: cfg.Mode, Accel: cfg.Accel, Notes: v.Notes,
		QEMU: cfg.QEMU, Args: args,
		Kernel: cfg.Kernel, Initrd: cfg.Initrd, Append: cfg.Append, Firmware: cfg.Firmware,
		MemoryMB: cfg.MemoryMB, CPUs: cfg.CPUs, Ports: cfg.Ports,
		State: StateStarting, Created: time.Now(),
	}
	if cfg.Mode == ModeSNP {
		if measurement == nil {
			measurement, _, _ = cfg.ExpectedSNPMeasurement()
		}
		rec.ExpectedMeasurement = hex.EncodeToString(measurement)
	}
	return rec
}

// Start launches a VM in the background and returns once it is up (QMP
// answers, or with WaitSSH once SSH answers). On any failure nothing is
// left running and the error is a *StartError with QEMU's own output, a
// *RefusedError, a *PortError, or wraps ErrRunning.
func Start(ctx context.Context, o Options) (*VM, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if o.RunDir == "" {
		return nil, fmt.Errorf("no run directory")
	}
	cfg, verdict, err := Prepare(ctx, o.Config, o.Prober)
	if err != nil {
		return nil, err
	}
	for _, n := range verdict.Notes {
		progress(n)
	}
	timeout := o.WaitTimeout
	if timeout <= 0 {
		timeout = 3 * time.Minute
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dir := filepath.Join(o.RunDir, cfg.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if old, err := readRecord(dir); err == nil && (procAlive(old.PID, old.PIDStart) || old.State == StateStarting && procAlive(old.KeeperPID, old.KeeperStart)) {
		return nil, fmt.Errorf("VM %q is %w (QEMU pid %d, ssh port %d)", cfg.Name, ErrRunning, old.PID, old.Ports.SSH)
	}
	paths := PathsIn(dir)
	for _, f := range []string{recordFile, "qemu.log", "keeper.log", paths.SerialLog, paths.SerialSocket, paths.QMPSocket, paths.PIDFile} {
		os.Remove(filepath.Join(dir, filepath.Base(f)))
	}
	for _, s := range []string{paths.QMPSocket, paths.SerialSocket} {
		if len(s) >= 108 {
			return nil, fmt.Errorf("run directory %s is too deep: the socket path %s is %d bytes, unix sockets allow 107 (use a shorter --state-dir)", dir, s, len(s))
		}
	}
	if cfg.Ports, err = reservePorts(cfg.Ports, o.AutoPorts); err != nil {
		return nil, err
	}
	args, err := cfg.Args(paths)
	if err != nil {
		return nil, err
	}
	rec := newRecord(cfg, args, verdict, o.ExpectedMeasurement)
	if err := writeRecord(dir, rec); err != nil {
		return nil, err
	}
	if o.KnownHostsFile != "" {
		if err := ForgetHostKey(o.KnownHostsFile, cfg.Name); err != nil {
			return nil, fmt.Errorf("forgetting the previous run's SSH host key in %s: %w", o.KnownHostsFile, err)
		}
	}
	cmdline := CommandLine(append([]string{cfg.QEMU}, args...))

	k, err := spawnKeeper(dir)
	if err != nil {
		return nil, err
	}
	vm := &VM{Dir: dir, Record: rec, keeper: k}
	fail := func(err error) (*VM, error) {
		k.abort()
		se := &StartError{Err: err, CommandLine: cmdline, RunDir: dir}
		if b, rerr := os.ReadFile(filepath.Join(dir, "qemu.log")); rerr == nil {
			se.QEMUOutput = withoutOurSignal(string(b))
			se.Err = explainQEMUFailure(err, se.QEMUOutput, cfg.Ports)
		}
		switch {
		case errors.Is(parent.Err(), context.Canceled):
			se.Err = fmt.Errorf("%w while starting (%v)", context.Canceled, se.Err)
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			se.Err = fmt.Errorf("not up within %s: %w", timeout, se.Err)
		}
		se.SerialTail = tailFile(paths.SerialLog, 20)
		return nil, se
	}

	progress(fmt.Sprintf("starting QEMU (%s, %s)", cfg.Mode, cfg.Accel))
	pid, err := k.waitStarted(ctx)
	if err != nil {
		return fail(err)
	}
	if vm.Record, err = readRecord(dir); err != nil {
		return fail(err)
	}
	progress(fmt.Sprintf("QEMU running, pid %d", pid))
	if err := waitQMP(ctx, paths.QMPSocket, k); err != nil {
		return fail(err)
	}
	if o.Wait == WaitSSH {
		progress(fmt.Sprintf("waiting for the guest's SSH server on 127.0.0.1:%d", cfg.Ports.SSH))
		if err := waitSSH(ctx, cfg.Ports.SSH, k.exitedCh); err != nil {
			return fail(err)
		}
		progress("SSH is up")
	}
	if !o.Attached {
		if err := vm.Detach(); err != nil {
			return fail(err)
		}
	}
	return vm, nil
}

// keeperProc is the launcher's side of a keeper it spawned.
type keeperProc struct {
	cmd      *exec.Cmd
	ctrl     *os.File // write end: "detach" or EOF
	mu       sync.Mutex
	msgs     chan keeperMsg
	exitedCh chan struct{} // closed when QEMU exited (or the keeper ended)
	exit     *ExitInfo
	errMsg   string
}

func spawnKeeper(dir string) (*keeperProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("locating cube-hal's own binary for the VM keeper: %w", err)
	}
	ctrlR, ctrlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		ctrlR.Close()
		ctrlW.Close()
		return nil, err
	}
	klog, err := os.OpenFile(filepath.Join(dir, "keeper.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer klog.Close()
	cmd := exec.Command(exe)
	// The run directory in argv shows in ps, and lets tests find it.
	cmd.Args = []string{"cube-hal-vm-keeper", dir}
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(os.Environ()), keeperEnv+"="+dir)
	cmd.Stdout = klog
	cmd.Stderr = klog
	cmd.ExtraFiles = []*os.File{ctrlR, statW}
	// Its own session: the terminal's Ctrl-C and hang-up never reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	ctrlR.Close()
	statW.Close()
	if err != nil {
		ctrlW.Close()
		statR.Close()
		return nil, fmt.Errorf("starting the VM keeper: %w", err)
	}
	k := &keeperProc{cmd: cmd, ctrl: ctrlW, msgs: make(chan keeperMsg, 8), exitedCh: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(statR)
		for sc.Scan() {
			var m keeperMsg
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			switch m.Event {
			case "exited":
				k.mu.Lock()
				k.exit = m.Exit
				k.mu.Unlock()
			case "error":
				k.mu.Lock()
				k.errMsg = m.Error
				k.mu.Unlock()
			}
			select {
			case k.msgs <- m:
			default:
			}
		}
		statR.Close()
		close(k.exitedCh)
	}()
	// Reap the keeper whenever it ends, so a long-lived caller (the TUI)
	// collects no zombies.
	go cmd.Wait()
	return k, nil
}

func (k *keeperProc) waitStarted(ctx context.Context) (int, error) {
	for {
		select {
		case m := <-k.msgs:
			switch m.Event {
			case "started":
				return m.PID, nil
			case "error":
				return 0, fmt.Errorf("the VM keeper failed: %s", m.Error)
			}
		case <-k.exitedCh:
			return 0, k.exitError()
		case <-ctx.Done():
			return 0, fmt.Errorf("QEMU did not start: %w", ctx.Err())
		}
	}
}

// exitError describes why the VM ended while starting.
func (k *keeperProc) exitError() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.errMsg != "":
		return fmt.Errorf("the VM keeper failed: %s", k.errMsg)
	case k.exit != nil:
		return fmt.Errorf("QEMU exited while starting (%s)", k.exit)
	}
	return fmt.Errorf("the VM keeper ended unexpectedly (see keeper.log)")
}

// abort makes the keeper stop QEMU and waits (bounded) until it did.
func (k *keeperProc) abort() {
	if k.ctrl != nil {
		k.ctrl.Close()
		k.ctrl = nil
	}
	select {
	case <-k.exitedCh:
	case <-time.After(10 * time.Second):
		if k.cmd.Process != nil {
			k.cmd.Process.Kill() // QEMU follows through its parent-death signal
		}
		<-k.exitedCh
	}
}

func waitQMP(ctx context.Context, sock string, k *keeperProc) error {
	var last error
	for {
		select {
		case <-k.exitedCh:
			return k.exitError()
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("QEMU's QMP socket did not answer: %v", last)
			}
			return fmt.Errorf("QEMU's QMP socket did not answer: %w", ctx.Err())
		default:
		}
		st, err := queryStatus(ctx, sock, 2*time.Second)
		if err == nil && st.Running {
			return nil
		}
		if err == nil {
			last = fmt.Errorf("VM status %q", st.Status)
		} else {
			last = err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func queryStatus(ctx context.Context, sock string, timeout time.Duration) (qmp.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := qmp.Dial(ctx, sock)
	if err != nil {
		return qmp.Status{}, err
	}
	defer c.Close()
	return c.QueryStatus(ctx)
}

// waitSSH probes 127.0.0.1:port until an SSH banner arrives. QEMU's user
// network accepts the TCP connection before the guest listens, so a
// successful connect proves nothing (cvm-facts §8).
func waitSSH(ctx context.Context, port int, exited <-chan struct{}) error {
	var last error
	for {
		if err := probeSSHBanner(ctx, port); err == nil {
			return nil
		} else {
			last = err
		}
		select {
		case <-exited:
			return fmt.Errorf("QEMU exited before SSH answered")
		case <-ctx.Done():
			return fmt.Errorf("SSH on 127.0.0.1:%d did not answer in time (last try: %v)", port, last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// probeSSHBanner connects once and reads the "SSH-2.0-..." identification.
func probeSSHBanner(ctx context.Context, port int) error {
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	var buf []byte
	tmp := make([]byte, 256)
	for len(buf) < 255 && !strings.Contains(string(buf), "\n") {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil {
			if len(buf) > 0 {
				break
			}
			if err == io.EOF {
				return fmt.Errorf("connection closed without a banner")
			}
			return err
		}
	}
	// RFC 4253 §4.2 allows other lines before the identification string.
	for _, line := range strings.Split(string(buf), "\n") {
		if strings.HasPrefix(line, "SSH-") {
			return nil
		}
	}
	return fmt.Errorf("no SSH banner (got %q)", buf)
}

// reservePorts checks that the host ports are free on 127.0.0.1, or with
// auto picks free ones for those that are taken.
func reservePorts(p Ports, auto bool) (Ports, error) {
	for _, e := range []struct {
		which string
		port  *int
	}{{"ssh", &p.SSH}, {"agent", &p.Agent}} {
		err := portFree(*e.port)
		if err == nil {
			continue
		}
		if !auto {
			return p, &PortError{Which: e.which, Port: *e.port, Err: err}
		}
		free, ferr := freePort(p)
		if ferr != nil {
			return p, ferr
		}
		*e.port = free
	}
	return p, nil
}

func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		var se *os.SyscallError
		if errors.As(err, &se) {
			return se.Err
		}
		return err
	}
	return l.Close()
}

func freePort(avoid Ports) (int, error) {
	for i := 0; i < 10; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port != avoid.SSH && port != avoid.Agent {
			return port, nil
		}
	}
	return 0, fmt.Errorf("could not find a free port on 127.0.0.1")
}

// explainQEMUFailure turns QEMU's best-known failures into one line that
// says what to do; QEMU's own words stay in StartError.QEMUOutput.
func explainQEMUFailure(err error, out string, p Ports) error {
	switch {
	case strings.Contains(out, "Could not set up host forwarding rule"):
		for _, e := range []struct {
			which string
			port  int
		}{{"ssh", p.SSH}, {"agent", p.Agent}} {
			if strings.Contains(out, fmt.Sprintf("127.0.0.1:%d-", e.port)) {
				return &PortError{Which: e.which, Port: e.port, Err: errors.New("QEMU could not bind it")}
			}
		}
	case strings.Contains(out, "does not accept value 'sev-snp-guest'"):
		return fmt.Errorf("this QEMU has no sev-snp-guest; SEV-SNP needs QEMU 9.1 or later")
	case strings.Contains(out, "does not accept value 'tdx-guest'"):
		return fmt.Errorf("this QEMU has no tdx-guest; TDX needs QEMU 10.1 or later")
	}
	if out != "" {
		return fmt.Errorf("%v: %s", err, lastLine(out))
	}
	return err
}

// withoutOurSignal drops QEMU's "terminating on signal N from pid P" line:
// when the start is aborted that is our own doing, not QEMU's complaint.
func withoutOurSignal(out string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(l, "terminating on signal") {
			keep = append(keep, l)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// tailFile returns the last n lines of a file ("" if unreadable).
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 64 << 10
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return ""
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(b), "\r", ""), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
