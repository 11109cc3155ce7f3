// Package host reads raw facts about the machine cube-hal runs on: the CPU
// and its virtualisation flags, /dev/kvm and whether it really works, the
// SEV-SNP and TDX switches of the host kernel, /dev/sev and
// /dev/vhost-vsock, the QEMU binary (version and object types), OVMF
// firmware, memory, cores, free disk space, tools on PATH and the ncurses
// headers.
//
// It reports what is there and nothing more. Deciding what those facts
// mean (which VM modes can run, which doctor checks pass) is left to the
// callers: launch/ for modes, the doctor command for preflight checks.
//
// Every fixed system path (/proc, /sys, /dev, /usr/share, /usr/include,
// /etc) is read under Host.Root, and programs run through Host.Run, so
// tests describe a whole machine with a temporary directory and a few
// shell scripts standing in for QEMU.
package host

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Runner runs the program at path with args and returns what it printed on
// stdout and stderr combined. Host uses it for every program it runs, so a
// test can substitute one; ExecRunner is the real thing.
type Runner func(ctx context.Context, path string, args ...string) ([]byte, error)

// StatfsFunc reports the bytes available to an unprivileged user and the
// total size of the filesystem holding path (which exists).
type StatfsFunc func(path string) (avail, total uint64, err error)

// Host is a machine to read facts from. The zero value reads the real
// machine (Root "/", $PATH, real programs, real statfs).
type Host struct {
	// Root is prefixed to every fixed system path (/proc/cpuinfo,
	// /dev/kvm, /usr/share/ovmf, ...). Empty means "/".
	Root string
	// Path is the list of directories searched for programs, in $PATH
	// syntax. It is used as given, not re-rooted under Root, so a test
	// points it at a directory of fake tools. Empty means $PATH.
	Path string
	// Run runs programs (QEMU's --version and -object help). Nil means
	// ExecRunner.
	Run Runner
	// Statfs measures filesystems for FreeDisk. Nil means statfs(2).
	Statfs StatfsFunc
	// CommandTimeout bounds each program run. Zero means 10 seconds.
	CommandTimeout time.Duration
}

// Local returns the real machine.
func Local() *Host { return &Host{} }

// Facts is everything Probe reads in one go. Each part that could not be
// read says why in its own Err field instead of failing the whole probe.
type Facts struct {
	Root          string     `json:"root"`
	KernelRelease string     `json:"kernel_release,omitempty"` // uname -r, from /proc/sys/kernel/osrelease
	CPU           CPU        `json:"cpu"`
	Cores         int        `json:"cores"` // online CPUs
	Memory        Memory     `json:"memory"`
	KVM           KVM        `json:"kvm"`
	SEV           SEV        `json:"sev"`
	TDX           TDX        `json:"tdx"`
	VhostVsock    Device     `json:"vhost_vsock"` // /dev/vhost-vsock, for vhost-vsock-pci (TDX quotes via QGS)
	QEMU          QEMU       `json:"qemu"`
	Firmware      []Firmware `json:"firmware"`
	NcursesHeader string     `json:"ncurses_header,omitempty"` // path of the ncurses header found, "" if none
}

// DefaultQEMU is the QEMU binary cube-hal launches x86-64 guests with.
const DefaultQEMU = "qemu-system-x86_64"

// Probe reads every fact it can about the machine. It never fails: what
// cannot be read is reported in the part concerned. Tools on PATH and free
// disk space depend on what the caller asks for, so they are separate
// calls (LookPath, FreeDisk).
func (h *Host) Probe(ctx context.Context) *Facts {
	f := &Facts{Root: h.root()}
	f.KernelRelease = strings.TrimSpace(h.readString("/proc/sys/kernel/osrelease"))
	f.CPU = h.CPU()
	f.Cores = h.Cores()
	f.Memory = h.Memory()
	f.KVM = h.kvm(f.CPU)
	f.SEV = h.sev(f.CPU)
	f.TDX = h.tdx(f.CPU)
	f.VhostVsock = h.Device("/dev/vhost-vsock")
	f.QEMU = h.QEMU(ctx, DefaultQEMU)
	f.Firmware = h.Firmware()
	f.NcursesHeader = h.NcursesHeader()
	return f
}

func (h *Host) root() string {
	if h.Root == "" {
		return "/"
	}
	return h.Root
}

// path maps an absolute system path (as the kernel would see it) to where
// it lives under Root.
func (h *Host) path(p string) string {
	if h.Root == "" || h.Root == "/" {
		return p
	}
	return filepath.Join(h.Root, p)
}

// unroot maps a path under Root back to the system path it stands for.
func (h *Host) unroot(p string) string {
	if h.Root == "" || h.Root == "/" {
		return p
	}
	rel, err := filepath.Rel(h.Root, p)
	if err != nil || strings.HasPrefix(rel, "..") {
		return p
	}
	return "/" + rel
}

func (h *Host) readString(p string) string {
	b, err := os.ReadFile(h.path(p))
	if err != nil {
		return ""
	}
	return string(b)
}

func (h *Host) exists(p string) bool {
	_, err := os.Stat(h.path(p))
	return err == nil
}

func (h *Host) run(ctx context.Context, path string, args ...string) ([]byte, error) {
	timeout := h.CommandTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := h.Run
	if r == nil {
		r = ExecRunner
	}
	return r(ctx, path, args...)
}

// ExecRunner runs path for real, in the C locale, with no stdin, and
// kills it (and anything it started in its process group) when ctx ends.
func ExecRunner(ctx context.Context, path string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return out, errors.New("timed out")
	}
	return out, err
}
