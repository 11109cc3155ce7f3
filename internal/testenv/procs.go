package testenv

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ProcsUsing lists the live processes (zombies aside) whose command line
// mentions dir, as "PID: command line", leaving out this process and the
// PIDs in except: what a test's VMs, builds and shells would leave behind.
func ProcsUsing(dir string, except map[int]bool) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || except[pid] {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(b, []byte(dir)) || IsZombie(pid) {
			continue
		}
		out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// IsZombie reports whether pid has exited and waits for its parent (or is
// gone altogether).
func IsZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] == 'Z'
}

// RequireNoProcs fails the test when a process of ProcsUsing(dir, except)
// is still alive after half a minute (a deadline only a process that stays
// reaches, however loaded the machine), and kills those, so one failure
// does not leak into other tests.
func RequireNoProcs(tb testing.TB, dir string, except map[int]bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := ProcsUsing(dir, except)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, l := range left {
				if pid, err := strconv.Atoi(strings.SplitN(l, ":", 2)[0]); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			tb.Fatalf("processes left behind:\n%s", strings.Join(left, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
