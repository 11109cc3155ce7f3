package host

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// Memory is from /proc/meminfo, in bytes.
type Memory struct {
	Total     uint64 `json:"total"`
	Available uint64 `json:"available"`
	Err       string `json:"error,omitempty"`
}

// Memory reads /proc/meminfo.
func (h *Host) Memory() Memory {
	s := h.readString("/proc/meminfo")
	if s == "" {
		return Memory{Err: "cannot read " + h.path("/proc/meminfo")}
	}
	m := ParseMeminfo(s)
	if m.Total == 0 {
		m.Err = "no MemTotal in " + h.path("/proc/meminfo")
	}
	return m
}

// ParseMeminfo parses the text of /proc/meminfo (values in kB).
func ParseMeminfo(s string) Memory {
	var m Memory
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		switch key {
		case "MemTotal":
			m.Total = n
		case "MemAvailable":
			m.Available = n
		}
	}
	return m
}

// Cores is the number of online CPUs: /sys/devices/system/cpu/online,
// else the processors in /proc/cpuinfo, else what the Go runtime sees.
func (h *Host) Cores() int {
	if n := ParseCPUList(h.readString("/sys/devices/system/cpu/online")); n > 0 {
		return n
	}
	if c := h.CPU(); c.Processors > 0 {
		return c.Processors
	}
	return runtime.NumCPU()
}

// ParseCPUList counts the CPUs in a kernel CPU list such as "0-3,6,8-9".
// It returns 0 for anything malformed.
func ParseCPUList(s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		if b-a > 1<<16 {
			return 0
		}
		n += b - a + 1
	}
	return n
}

// Disk is the free space of the filesystem that holds (or will hold) a
// directory.
type Disk struct {
	Path     string `json:"path"`     // the directory asked about
	Measured string `json:"measured"` // the nearest existing ancestor actually measured
	Avail    uint64 `json:"avail"`    // bytes available to unprivileged users
	Total    uint64 `json:"total"`
}

// FreeDisk measures the filesystem that holds dir. dir need not exist yet
// (an output directory before the first build): its nearest existing
// ancestor is measured instead. dir is a real path, not re-rooted.
func (h *Host) FreeDisk(dir string) (Disk, error) {
	d := Disk{Path: dir}
	p, err := filepath.Abs(dir)
	if err != nil {
		return d, err
	}
	for {
		if _, err := os.Stat(p); err == nil {
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			return d, fmt.Errorf("%s: no existing ancestor", dir)
		}
		p = parent
	}
	d.Measured = p
	statfs := h.Statfs
	if statfs == nil {
		statfs = realStatfs
	}
	d.Avail, d.Total, err = statfs(p)
	if err != nil {
		return d, fmt.Errorf("statfs %s: %w", p, err)
	}
	return d, nil
}

func realStatfs(p string) (avail, total uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(p, &st); err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// ErrNotFound is returned by LookPath when no directory of Path has the
// program.
var ErrNotFound = errors.New("not found on PATH")

// LookPath finds an executable named name in h.Path (default $PATH), like
// exec.LookPath but over the Host's PATH.
func (h *Host) LookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if isExecutable(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	path := h.Path
	if path == "" {
		path = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue // an empty entry means ".", which we never search
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrNotFound)
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// ncursesHeaders are where Buildroot's menuconfig check
// (support/kconfig/lxdialog/check-lxdialog.sh) looks, in its order.
var ncursesHeaders = []string{
	"/usr/include/ncursesw/curses.h",
	"/usr/include/ncurses/ncurses.h",
	"/usr/include/ncurses/curses.h",
	"/usr/include/ncurses.h",
	"/usr/include/curses.h",
}

// NcursesHeader returns the system path of the first ncurses header found,
// or "" when none is installed.
func (h *Host) NcursesHeader() string {
	for _, p := range ncursesHeaders {
		if h.exists(p) {
			return p
		}
	}
	return ""
}
