package build

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func mkfifo(path string) error { return unix.Mkfifo(path, 0o600) }

// rawOutput turns off ONLCR on the pty's terminal side, so the bytes cube-hal
// reads (and logs) are exactly the bytes make and its children wrote, with
// no "\n" → "\r\n" translation.
func rawOutput(tty *os.File) error {
	t, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Oflag &^= unix.ONLCR
	return unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, t)
}

// proc is a process of a build found in /proc.
type proc struct {
	PID, PGID, SID int
	State          byte // R, S, D, Z, T, ...
	Comm           string
	// Dying: the process is already on its way out (it is exiting, or a
	// fatal signal awaits it), so it is gone in a moment without help.
	Dying bool
}

// pfExiting is the kernel's PF_EXITING task flag: the task is in exit.
const pfExiting = 0x4

// sessionProcs lists the live (non-zombie) processes whose process group or
// session is id. make runs as the leader of its own session, so this is
// every process of the build, including those that moved to another
// process group. Zombies are left out: they are dead, only waiting for a
// parent (or an init that does not reap) to collect them.
func sessionProcs(id int) []proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readStat(pid)
		if !ok || p.State == 'Z' || p.State == 'X' {
			continue
		}
		if p.PGID == id || p.SID == id {
			out = append(out, p)
		}
	}
	return out
}

// readStat parses /proc/PID/stat: "pid (comm) state ppid pgrp session
// tty_nr tpgid flags ... signal ..." (proc(5)); comm may hold spaces and
// parentheses, so fields are taken after the last ')'. A fatal signal sent
// to a process shows as SIGKILL in its pending set (the kernel turns any
// signal whose default action kills into SIGKILL for every thread) until
// the process runs and starts exiting, when PF_EXITING is set.
func readStat(pid int) (proc, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return proc{}, false
	}
	open := bytes.IndexByte(b, '(')
	cl := bytes.LastIndexByte(b, ')')
	if open < 0 || cl < open {
		return proc{}, false
	}
	f := bytes.Fields(b[cl+1:]) // f[0] is field 3 of proc(5)
	if len(f) < 4 {
		return proc{}, false
	}
	pgid, err1 := strconv.Atoi(string(f[2]))
	sid, err2 := strconv.Atoi(string(f[3]))
	if err1 != nil || err2 != nil || len(f[0]) == 0 {
		return proc{}, false
	}
	p := proc{PID: pid, PGID: pgid, SID: sid, State: f[0][0], Comm: string(b[open+1 : cl])}
	if len(f) > 28 {
		flags, _ := strconv.ParseUint(string(f[6]), 10, 64)
		pending, _ := strconv.ParseUint(string(f[28]), 10, 64)
		p.Dying = flags&pfExiting != 0 || pending&(1<<(syscall.SIGKILL-1)) != 0
	}
	return p, true
}

// signalSession sends sig to the build's process group and to every other
// live process of its session.
func signalSession(id int, sig syscall.Signal) {
	_ = syscall.Kill(-id, sig)
	for _, p := range sessionProcs(id) {
		if p.PGID != id {
			_ = syscall.Kill(p.PID, sig)
		}
	}
}

// sweepSession ends whatever is left of a build after make exited: SIGTERM,
// then SIGKILL after grace. It returns how many processes were left;
// processes already dying (killed with make, not yet gone) do not count,
// but are waited for, so that none of the build outlives the call.
func sweepSession(id int, grace time.Duration) (left int, killed bool) {
	procs := sessionProcs(id)
	for _, p := range procs {
		if !p.Dying {
			left++
		}
	}
	if left == 0 {
		if len(procs) > 0 {
			waitSessionGone(id, min(grace, 5*time.Second))
		}
		return 0, false
	}
	signalSession(id, syscall.SIGTERM)
	if waitSessionGone(id, grace) {
		return left, false
	}
	signalSession(id, syscall.SIGKILL)
	waitSessionGone(id, 5*time.Second)
	return left, true
}

func waitSessionGone(id int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if len(sessionProcs(id)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
