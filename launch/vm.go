package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ultravioletrs/cube-hal/launch/qmp"
)

// VM is a handle on a VM's run directory. Start returns one; Open finds one
// a previous cube-hal started.
type VM struct {
	Dir    string
	Record Record
	keeper *keeperProc // set while this process still owns the start
}

// ErrNotFound is returned by Open when no VM of that name was ever started.
var ErrNotFound = errors.New("no such VM")

// Open reads the VM name's record from runDir. An empty name means the
// only VM there is (an error when there are several).
func Open(runDir, name string) (*VM, error) {
	if name == "" {
		names, err := names(runDir)
		if err != nil {
			return nil, err
		}
		var live []string
		for _, n := range names {
			if r, err := readRecord(filepath.Join(runDir, n)); err == nil && procAlive(r.PID, r.PIDStart) {
				live = append(live, n)
			}
		}
		switch {
		case len(live) == 1:
			name = live[0]
		case len(live) > 1:
			return nil, fmt.Errorf("%d VMs are running (%s): say which one with --name", len(live), strings.Join(live, ", "))
		case len(names) == 1:
			name = names[0]
		default:
			name = DefaultName
		}
	}
	dir := filepath.Join(runDir, name)
	r, err := readRecord(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("VM %q: %w (nothing in %s; start one with 'cube-hal launch')", name, ErrNotFound, runDir)
	}
	if err != nil {
		return nil, err
	}
	return &VM{Dir: dir, Record: r}, nil
}

func names(runDir string) ([]string, error) {
	ents, err := os.ReadDir(runDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			if _, err := os.Stat(filepath.Join(runDir, e.Name(), recordFile)); err == nil {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// Paths are the VM's control files.
func (vm *VM) Paths() RunPaths { return PathsIn(vm.Dir) }

// Refresh re-reads the record (the keeper updates it).
func (vm *VM) Refresh() error {
	r, err := readRecord(vm.Dir)
	if err == nil {
		vm.Record = r
	}
	return err
}

// Running reports whether the VM's QEMU process is alive.
func (vm *VM) Running() bool { return procAlive(vm.Record.PID, vm.Record.PIDStart) }

// Detach hands a VM started with Options.Attached over: from now on it
// outlives this process. Start does this itself unless Attached.
func (vm *VM) Detach() error {
	k := vm.keeper
	if k == nil {
		return nil
	}
	if _, err := io.WriteString(k.ctrl, "detach\n"); err != nil {
		return fmt.Errorf("handing the VM over to its keeper: %w", err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-k.msgs:
			if m.Event == "running" {
				k.ctrl.Close()
				k.ctrl = nil
				vm.keeper = nil
				vm.Refresh()
				return nil
			}
		case <-k.exitedCh:
			return k.exitError()
		case <-deadline:
			return fmt.Errorf("the VM keeper did not acknowledge the hand-over")
		}
	}
}

// VMStatus is one line of `cube-hal status`.
type VMStatus struct {
	Name      string
	Mode      Mode
	Accel     Accel
	State     string // "running", "starting", "exited", "stale"
	Running   bool   // QEMU is alive
	PID       int
	Ports     Ports
	Started   time.Time
	Uptime    time.Duration // 0 when not running
	QMPStatus string        // query-status ("running", "paused", ...), or why it is unknown
	Exit      *ExitInfo     // how it ended, when it did
	Dir       string
	SerialLog string
}

// List returns every VM recorded under runDir (workspace.RunDir()), running
// or not, sorted by name. Running ones are asked for their QMP status with
// a short timeout. `cube-hal status` and the TUI call it.
func List(ctx context.Context, runDir string) ([]VMStatus, error) {
	ns, err := names(runDir)
	if err != nil {
		return nil, err
	}
	var out []VMStatus
	for _, n := range ns {
		vm, err := Open(runDir, n)
		if err != nil {
			continue
		}
		out = append(out, vm.Status(ctx))
	}
	return out, nil
}

// Status reports the VM's state, asking QEMU over QMP when it is alive.
func (vm *VM) Status(ctx context.Context) VMStatus {
	vm.Refresh()
	r := vm.Record
	s := VMStatus{
		Name: r.Name, Mode: r.Mode, Accel: r.Accel, State: r.State, PID: r.PID, Ports: r.Ports,
		Started: r.Started, Exit: r.Exit, Dir: vm.Dir, SerialLog: vm.Paths().SerialLog,
	}
	s.Running = vm.Running()
	switch {
	case s.Running:
		s.Uptime = time.Since(r.Started).Round(time.Second)
		st, err := queryStatus(ctx, vm.Paths().QMPSocket, time.Second)
		if err != nil {
			s.QMPStatus = "unknown (" + err.Error() + ")"
		} else {
			s.QMPStatus = st.Status
		}
	case r.State == StateExited:
		s.QMPStatus = "-"
	default:
		// Recorded as starting or running but nothing is alive: the keeper
		// was killed, or the machine rebooted.
		s.State = "stale"
		s.QMPStatus = "-"
	}
	return s
}

// WriteStatusTable prints VMs as an aligned table (for `cube-hal status`).
func WriteStatusTable(w io.Writer, vms []VMStatus) {
	if len(vms) == 0 {
		fmt.Fprintln(w, "No VMs.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODE\tSTATE\tPID\tSSH\tAGENT\tUPTIME\tQMP")
	for _, s := range vms {
		state, pid, up := s.State, "-", "-"
		if s.Running {
			pid = fmt.Sprint(s.PID)
			up = s.Uptime.String()
		} else if s.Exit != nil {
			state = "exited (" + s.Exit.String() + ")"
		}
		mode := string(s.Mode)
		if s.Mode == ModePlain {
			mode += "/" + string(s.Accel)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t127.0.0.1:%d\t127.0.0.1:%d\t%s\t%s\n",
			s.Name, mode, state, pid, s.Ports.SSH, s.Ports.Agent, up, s.QMPStatus)
	}
	tw.Flush()
}

// StopOptions bound each step of Stop.
type StopOptions struct {
	// PowerdownTimeout is how long the guest gets to power off after the
	// ACPI power button (default 30 s). Negative skips the powerdown.
	PowerdownTimeout time.Duration
	// QuitTimeout is how long QEMU gets to exit after QMP quit, and again
	// after SIGTERM (default 5 s each).
	QuitTimeout time.Duration
	Progress    func(string)
}

// StopResult says how the VM ended.
type StopResult struct {
	How  string // "powerdown", "quit", "SIGTERM", "SIGKILL" or "not running"
	Took time.Duration
}

// String says how the VM ended in words, with the time it took, e.g. "the
// guest powered off (2.1s)": what `cube-hal stop` and the TUI print.
func (r StopResult) String() string {
	how := map[string]string{
		"powerdown":   "the guest powered off",
		"quit":        "QEMU quit",
		"SIGTERM":     "QEMU terminated with SIGTERM",
		"SIGKILL":     "QEMU killed with SIGKILL",
		"not running": "it was not running",
	}[r.How]
	if how == "" {
		how = r.How
	}
	return fmt.Sprintf("%s (%.1fs)", how, r.Took.Seconds())
}

// Stop shuts the VM down: QMP system_powerdown and wait for SHUTDOWN (the
// guest powers off), then QMP quit, then SIGTERM and SIGKILL to its own
// QEMU pid (checked against the recorded start time, so a recycled pid is
// never hit). It returns once no QEMU process of this VM is left.
func (vm *VM) Stop(ctx context.Context, o StopOptions) (StopResult, error) {
	t0 := time.Now()
	progress := o.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if o.PowerdownTimeout == 0 {
		o.PowerdownTimeout = 30 * time.Second
	}
	if o.QuitTimeout <= 0 {
		o.QuitTimeout = 5 * time.Second
	}
	vm.Refresh()
	r := vm.Record
	res := StopResult{How: "not running"}
	done := func() (StopResult, error) {
		res.Took = time.Since(t0)
		vm.waitKeeper()
		vm.Refresh()
		return res, nil
	}
	if !vm.Running() {
		return done()
	}
	sock := vm.Paths().QMPSocket

	if o.PowerdownTimeout > 0 {
		progress("asking the guest to power off (ACPI power button)")
		if vm.powerdown(ctx, sock, o.PowerdownTimeout) {
			if waitGone(r.PID, r.PIDStart, o.QuitTimeout) {
				res.How = "powerdown"
				return done()
			}
		} else if !vm.Running() {
			res.How = "powerdown"
			return done()
		}
		progress(fmt.Sprintf("the guest did not power off within %s", o.PowerdownTimeout))
	}
	if ctx.Err() == nil {
		progress("telling QEMU to quit")
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		c, err := qmp.Dial(qctx, sock)
		if err == nil {
			// QEMU may exit before it answers: what counts is that it goes.
			c.Execute(qctx, "quit", nil)
			c.Close()
		}
		cancel()
		switch {
		case err != nil:
			// No one to tell: do not wait for a quit never sent.
			progress(fmt.Sprintf("QMP is unusable (%v)", err))
		case waitGone(r.PID, r.PIDStart, o.QuitTimeout):
			res.How = "quit"
			return done()
		}
	}
	progress(fmt.Sprintf("sending SIGTERM to QEMU (pid %d)", r.PID))
	if err := signalIfSame(r.PID, r.PIDStart, syscall.SIGTERM); err == nil && waitGone(r.PID, r.PIDStart, o.QuitTimeout) {
		res.How = "SIGTERM"
		return done()
	}
	progress(fmt.Sprintf("sending SIGKILL to QEMU (pid %d)", r.PID))
	signalIfSame(r.PID, r.PIDStart, syscall.SIGKILL)
	if !waitGone(r.PID, r.PIDStart, 5*time.Second) {
		return res, fmt.Errorf("QEMU pid %d survived SIGKILL", r.PID)
	}
	res.How = "SIGKILL"
	return done()
}

// powerdown presses the ACPI power button and waits for the SHUTDOWN event
// or the end of QEMU. It reports whether the guest shut down.
func (vm *VM) powerdown(ctx context.Context, sock string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := qmp.Dial(ctx, sock)
	if err != nil {
		return false
	}
	defer c.Close()
	if _, err := c.Execute(ctx, "system_powerdown", nil); err != nil {
		return false
	}
	_, err = c.WaitEvent(ctx, "SHUTDOWN")
	// ErrClosed: QEMU closed the socket, i.e. it exited.
	return err == nil || errors.Is(err, qmp.ErrClosed)
}

// waitKeeper gives the keeper a moment to record the exit and remove the
// sockets, and kills it if it hangs.
func (vm *VM) waitKeeper() {
	r := vm.Record
	if r.KeeperPID == 0 {
		return
	}
	if !waitGone(r.KeeperPID, r.KeeperStart, 5*time.Second) {
		signalIfSame(r.KeeperPID, r.KeeperStart, syscall.SIGKILL)
		waitGone(r.KeeperPID, r.KeeperStart, 2*time.Second)
	}
	if vm.keeper != nil {
		select {
		case <-vm.keeper.exitedCh:
		case <-time.After(2 * time.Second):
		}
	}
}

// FollowSerial streams the serial console: what is in the log so far (from
// the start when fromStart, else only new output), then new output as the
// guest writes it, until ctx ends or the VM exits. Any number of readers
// may follow at once; reading never slows the guest down.
func (vm *VM) FollowSerial(ctx context.Context, fromStart bool) (io.ReadCloser, error) {
	f, err := os.Open(vm.Paths().SerialLog)
	if err != nil {
		return nil, err
	}
	if !fromStart {
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			f.Close()
			return nil, err
		}
	}
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer f.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				if _, werr := pw.Write(buf[:n]); werr != nil {
					return
				}
				continue
			}
			if err != nil && err != io.EOF {
				pw.CloseWithError(err)
				return
			}
			if !vm.Running() {
				// One last read after the exit, then the end.
				if n, _ := f.Read(buf); n > 0 {
					pw.Write(buf[:n])
					continue
				}
				pw.Close()
				return
			}
			select {
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return &followReader{PipeReader: pr, cancel: cancel}, nil
}

type followReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (r *followReader) Close() error {
	r.cancel()
	return r.PipeReader.Close()
}

// SerialConn connects to the interactive serial console (read and write).
// QEMU serves one client at a time; while connected, keep reading, or the
// guest's console output stalls.
func (vm *VM) SerialConn(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", vm.Paths().SerialSocket)
}

// QMP connects to the VM's QMP socket (negotiated). Close it promptly:
// QEMU serves one QMP client at a time.
func (vm *VM) QMP(ctx context.Context) (*qmp.Conn, error) {
	return qmp.Dial(ctx, vm.Paths().QMPSocket)
}

// QEMUOutput returns what QEMU printed (warnings, errors).
func (vm *VM) QEMUOutput() string {
	b, _ := os.ReadFile(filepath.Join(vm.Dir, "qemu.log"))
	return string(b)
}
