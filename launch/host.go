package launch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HostFacts are the raw observations that decide which modes a host can
// run. A Prober gathers them; Assess turns them into decisions with
// reasons. Keeping the two apart lets tests feed any host to Assess.
type HostFacts struct {
	// CPUFlags are the "flags" of the first processor in /proc/cpuinfo.
	CPUFlags    map[string]bool
	CPUFlagsErr error // /proc/cpuinfo unreadable

	KVM Device // /dev/kvm
	SEV Device // /dev/sev (the AMD secure processor, opened by QEMU for SNP)

	// Module parameters, "" when the module is not loaded (no
	// /sys/module/<mod>/parameters directory).
	KVMAMDSNP   string // /sys/module/kvm_amd/parameters/sev_snp
	KVMIntelTDX string // /sys/module/kvm_intel/parameters/tdx

	QEMU QEMUInfo
}

// Device is what opening a device node read-write gave.
type Device struct {
	Path   string
	Exists bool
	OpenRW bool
	Err    string // why it could not be opened, when it exists
}

// QEMUInfo is what the QEMU binary says about itself.
type QEMUInfo struct {
	Path    string          // resolved path, "" when not found
	Version [3]int          // major, minor, micro
	Objects map[string]bool // user-creatable object types (-object help)
	Err     error           // not found, or it failed to answer
}

// VersionString is "7.2.22".
func (q QEMUInfo) VersionString() string {
	return fmt.Sprintf("%d.%d.%d", q.Version[0], q.Version[1], q.Version[2])
}

// AtLeast reports whether the QEMU version is >= major.minor.
func (q QEMUInfo) AtLeast(major, minor int) bool {
	return q.Version[0] > major || q.Version[0] == major && q.Version[1] >= minor
}

// Prober gathers HostFacts. HostProbe is the real one; the `host` package
// of `cube-hal doctor` can stand in for it through this interface.
type Prober interface {
	Facts(ctx context.Context, qemu string) HostFacts
}

// HostProbe reads the host under Root ("" or "/" for the real one; tests
// point it at a fake tree holding proc/cpuinfo, sys/module/... and dev/...).
type HostProbe struct {
	Root string
}

func (h HostProbe) path(p string) string {
	if h.Root == "" {
		return p
	}
	return filepath.Join(h.Root, p)
}

// Facts implements Prober.
func (h HostProbe) Facts(ctx context.Context, qemu string) HostFacts {
	var f HostFacts
	f.CPUFlags, f.CPUFlagsErr = readCPUFlags(h.path("/proc/cpuinfo"))
	f.KVM = probeDevice(h.path("/dev/kvm"))
	f.KVM.Path = "/dev/kvm"
	f.SEV = probeDevice(h.path("/dev/sev"))
	f.SEV.Path = "/dev/sev"
	f.KVMAMDSNP = readParam(h.path("/sys/module/kvm_amd/parameters"), "sev_snp")
	f.KVMIntelTDX = readParam(h.path("/sys/module/kvm_intel/parameters"), "tdx")
	f.QEMU = ProbeQEMU(ctx, qemu)
	return f
}

func readCPUFlags(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	flags := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(k) != "flags" {
			continue
		}
		for _, fl := range strings.Fields(v) {
			flags[fl] = true
		}
		return flags, nil // the first processor is enough
	}
	return flags, sc.Err()
}

func probeDevice(path string) Device {
	d := Device{}
	if _, err := os.Stat(path); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.Exists = true
			d.Err = unwrapPathError(err).Error()
		}
		return d
	}
	d.Exists = true
	fh, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		d.Err = unwrapPathError(err).Error()
		return d
	}
	fh.Close()
	d.OpenRW = true
	return d
}

// readParam returns a module parameter, "" when the module is not loaded,
// and "?" when the module is loaded but the parameter is unreadable.
func readParam(dir, name string) string {
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

var qemuVersionRE = regexp.MustCompile(`QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?`)

// ProbeQEMU asks the QEMU binary for its version (--version) and its
// object types (-object help). Both take a few milliseconds.
func ProbeQEMU(ctx context.Context, qemu string) QEMUInfo {
	var q QEMUInfo
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	p, err := exec.LookPath(qemu)
	if err != nil {
		q.Err = fmt.Errorf("%s not found (install qemu-system-x86, or pass --qemu PATH)", qemu)
		return q
	}
	q.Path = p
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p, "--version").CombinedOutput()
	if err != nil {
		q.Err = fmt.Errorf("%s --version failed: %v: %s", p, err, firstLine(out))
		return q
	}
	m := qemuVersionRE.FindSubmatch(out)
	if m == nil {
		q.Err = fmt.Errorf("%s --version: no \"QEMU emulator version\" in %q", p, firstLine(out))
		return q
	}
	for i := 0; i < 3; i++ {
		if len(m[i+1]) > 0 {
			q.Version[i], _ = strconv.Atoi(string(m[i+1]))
		}
	}
	out, err = exec.CommandContext(ctx, p, "-object", "help").CombinedOutput()
	if err != nil {
		q.Err = fmt.Errorf("%s -object help failed: %v: %s", p, err, firstLine(out))
		return q
	}
	q.Objects = parseObjectHelp(out)
	return q
}

// parseObjectHelp reads "List of user creatable objects:" followed by one
// indented type name a line.
func parseObjectHelp(out []byte) map[string]bool {
	objs := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, " ") {
			continue
		}
		if f := strings.Fields(line); len(f) == 1 {
			objs[f[0]] = true
		}
	}
	return objs
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
