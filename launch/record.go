package launch

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/atomicfile"
)

// VM states recorded in the run directory.
const (
	StateStarting = "starting" // QEMU is being started; the launcher still owns it
	StateRunning  = "running"  // handed over: the VM lives on its own
	StateExited   = "exited"   // QEMU exited; Exit says how
)

// Record is a VM's run record, <run dir>/<name>/vm.json. The launcher
// writes it before anything starts; from then on only the keeper updates
// it, so there is one writer at a time.
type Record struct {
	Name     string   `json:"name"`
	Mode     Mode     `json:"mode"`
	Accel    Accel    `json:"accel"`
	Notes    []string `json:"notes,omitempty"`
	QEMU     string   `json:"qemu"`
	Args     []string `json:"args"`
	Kernel   string   `json:"kernel"`
	Initrd   string   `json:"initrd,omitempty"`
	Append   string   `json:"append"`
	Firmware string   `json:"firmware,omitempty"`
	MemoryMB int      `json:"memory_mb"`
	CPUs     int      `json:"cpus"`
	Ports    Ports    `json:"ports"`
	// ExpectedMeasurement is the SEV-SNP launch digest (hex) the VM's
	// attestation reports must carry, computed from exactly the files and
	// settings it was started with; empty outside SNP mode or when it cannot
	// be known (see Config.ExpectedSNPMeasurement). Attesting this VM
	// compares MEASUREMENT with it.
	ExpectedMeasurement string `json:"expected_measurement,omitempty"`

	State       string    `json:"state"`
	Created     time.Time `json:"created"`
	Started     time.Time `json:"started,omitempty"` // QEMU process start
	KeeperPID   int       `json:"keeper_pid,omitempty"`
	KeeperStart uint64    `json:"keeper_start,omitempty"` // /proc start time, against pid reuse
	PID         int       `json:"pid,omitempty"`          // QEMU
	PIDStart    uint64    `json:"pid_start,omitempty"`
	Exit        *ExitInfo `json:"exit,omitempty"`
}

// Measurement decodes ExpectedMeasurement: nil when none was recorded, an
// error naming the field when vm.json holds something else than 96 hex
// digits.
func (r Record) Measurement() ([]byte, error) {
	if r.ExpectedMeasurement == "" {
		return nil, nil
	}
	m, err := hex.DecodeString(r.ExpectedMeasurement)
	if err != nil || len(m) != 48 {
		return nil, fmt.Errorf("VM %q: vm.json: expected_measurement is not 96 hex digits", r.Name)
	}
	return m, nil
}

// ExitInfo is how QEMU ended.
type ExitInfo struct {
	At     time.Time `json:"at"`
	Code   int       `json:"code"`             // -1 when killed by a signal
	Signal string    `json:"signal,omitempty"` // e.g. "killed"
	Why    string    `json:"why,omitempty"`    // what the keeper did, e.g. "launcher went away during startup"
}

func (e *ExitInfo) String() string {
	s := "exit code " + strconv.Itoa(e.Code)
	if e.Signal != "" {
		s = "signal: " + e.Signal
	}
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

const recordFile = "vm.json"

func readRecord(dir string) (Record, error) {
	var r Record
	b, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, recordFile), err)
	}
	return r, nil
}

// writeRecord replaces vm.json atomically (temp file + rename).
func writeRecord(dir string, r Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, recordFile), append(b, '\n'), 0o600)
}

// procStart returns a process's start time in clock ticks since boot
// (/proc/PID/stat field 22) and its state letter; together with the pid
// they identify one process even after the pid is reused.
func procStart(pid int) (uint64, byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name (field 2) may hold spaces and parentheses: parse
	// after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	return st, f[0][0], err
}

// procAlive reports whether pid is a live (non-zombie) process that
// started at start (0: any start time).
func procAlive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, state, err := procStart(pid)
	if err != nil || state == 'Z' || state == 'X' {
		return false
	}
	return start == 0 || st == start
}

// signalIfSame sends sig to pid only if it is still the process that
// started at start: a recycled pid is never signalled.
func signalIfSame(pid int, start uint64, sig syscall.Signal) error {
	if !procAlive(pid, start) {
		return fs.ErrNotExist
	}
	return syscall.Kill(pid, sig)
}

// waitGone polls until the process is gone or d passes.
func waitGone(pid int, start uint64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !procAlive(pid, start) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockDir takes an exclusive flock on <dir>.lock so two launches of the
// same VM name cannot race. The returned func releases it.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another cube-hal is starting VM %q right now", filepath.Base(dir))
		}
		return nil, err
	}
	return func() { f.Close() }, nil
}
