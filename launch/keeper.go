package launch

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The keeper is the process that owns a running QEMU. Start re-executes
// the running binary (cube-hal, or a test binary: any binary that links
// this package) with keeperEnv set to the VM's run directory; this
// package's init then runs the keeper instead of the program.
//
// Why a separate process: QEMU gets a parent-death signal (SIGKILL) tied
// to the keeper, so QEMU can never outlive it; the keeper in turn kills
// QEMU when the launcher's control pipe closes before the launcher said
// "detach" (the launcher was killed, or gave up, while starting). After the
// hand-over the keeper stays, in its own session, reaps QEMU and records
// how it ended.
const keeperEnv = "CUBE_HAL_LAUNCH_KEEPER"

func init() {
	if dir := os.Getenv(keeperEnv); dir != "" {
		os.Exit(runKeeper(dir))
	}
}

// keeper → launcher status messages, one JSON object a line on fd 4.
type keeperMsg struct {
	Event string    `json:"event"` // started, running, exited, error
	PID   int       `json:"pid,omitempty"`
	Exit  *ExitInfo `json:"exit,omitempty"`
	Error string    `json:"error,omitempty"`
}

func runKeeper(dir string) int {
	// The main goroutine stays on the thread that forks QEMU, so the
	// parent-death signal (bound to that thread) fires only when the
	// keeper process itself dies.
	runtime.LockOSThread()
	os.Unsetenv(keeperEnv)
	// The pipes to the launcher are the keeper's alone: QEMU must not
	// inherit them (it would hold the launcher's status pipe open).
	syscall.CloseOnExec(3)
	syscall.CloseOnExec(4)
	// Nor anything the launcher's own parent leaked to us.
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 4 {
				syscall.CloseOnExec(fd)
			}
		}
	}
	ctrl := os.NewFile(3, "control")
	statusF := os.NewFile(4, "status")
	var statusMu sync.Mutex
	send := func(m keeperMsg) {
		statusMu.Lock()
		defer statusMu.Unlock()
		if statusF == nil {
			return
		}
		b, _ := json.Marshal(m)
		if _, err := statusF.Write(append(b, '\n')); err != nil {
			statusF.Close()
			statusF = nil
		}
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s keeper: %s\n", time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
	}
	fail := func(err error) int {
		logf("%v", err)
		send(keeperMsg{Event: "error", Error: err.Error()})
		return 1
	}
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	rec, err := readRecord(dir)
	if err != nil {
		return fail(err)
	}
	qlog, err := os.OpenFile(filepath.Join(dir, "qemu.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fail(err)
	}
	defer qlog.Close()

	cmd := exec.Command(rec.QEMU, rec.Args...)
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout = qlog
	cmd.Stderr = qlog
	cmd.Env = cleanEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting %s: %w", rec.QEMU, err))
	}
	pid := cmd.Process.Pid
	rec.PID = pid
	rec.PIDStart, _, _ = procStart(pid)
	rec.KeeperPID = os.Getpid()
	rec.KeeperStart, _, _ = procStart(rec.KeeperPID)
	rec.Started = time.Now()
	if err := writeRecord(dir, rec); err != nil {
		logf("writing record: %v", err)
	}
	logf("started QEMU pid %d", pid)
	send(keeperMsg{Event: "started", PID: pid})

	var mu sync.Mutex
	why := ""
	setWhy := func(s string) {
		mu.Lock()
		if why == "" {
			why = s
		}
		mu.Unlock()
	}
	exited := make(chan struct{})
	// kill ends QEMU: SIGTERM (QEMU exits at once and removes its pidfile),
	// then SIGKILL if it is still there after a grace period.
	kill := func(reason string) {
		setWhy(reason)
		logf("stopping QEMU: %s", reason)
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			logf("QEMU ignored SIGTERM; sending SIGKILL")
			cmd.Process.Kill()
		}
	}

	// Control pipe: "detach" hands the VM over; EOF before that means the
	// launcher is gone or gave up, so QEMU goes too.
	go func() {
		r := bufio.NewReader(ctrl)
		for {
			line, err := r.ReadString('\n')
			switch strings.TrimSpace(line) {
			case "detach":
				r2, err := readRecord(dir)
				if err == nil {
					r2.State = StateRunning
					if err := writeRecord(dir, r2); err != nil {
						logf("writing record: %v", err)
					}
				}
				logf("handed over: the VM runs on its own")
				send(keeperMsg{Event: "running"})
				statusMu.Lock()
				if statusF != nil {
					statusF.Close()
					statusF = nil
				}
				statusMu.Unlock()
				ctrl.Close()
				return
			case "abort":
				go kill("the launcher aborted the start")
				continue
			}
			if err != nil {
				select {
				case <-exited:
				default:
					kill("the launcher went away before the VM was handed over")
				}
				return
			}
		}
	}()
	go func() {
		for s := range sigs {
			kill("keeper got " + s.String())
		}
	}()

	werr := cmd.Wait()
	close(exited)
	info := &ExitInfo{At: time.Now(), Code: cmd.ProcessState.ExitCode()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		info.Signal = ws.Signal().String()
	}
	mu.Lock()
	info.Why = why
	mu.Unlock()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		logf("waiting for QEMU: %v", werr)
	}
	logf("QEMU exited: %s", info)
	if r2, err := readRecord(dir); err == nil {
		r2.State = StateExited
		r2.Exit = info
		if err := writeRecord(dir, r2); err != nil {
			logf("writing record: %v", err)
		}
	}
	p := PathsIn(dir)
	for _, f := range []string{p.QMPSocket, p.SerialSocket, p.PIDFile} {
		os.Remove(f)
	}
	send(keeperMsg{Event: "exited", Exit: info})
	return 0
}

// cleanEnv drops the keeper's own variable from QEMU's environment.
func cleanEnv(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, keeperEnv+"=") {
			out = append(out, e)
		}
	}
	return out
}
