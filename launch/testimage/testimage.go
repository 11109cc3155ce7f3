// Package testimage builds a tiny bootable guest from Debian packages for
// tests that need a real VM under QEMU's TCG (no KVM): Debian's kernel
// (uncompressed, so it boots through its PVH entry in ~7 s instead of
// spending 5-6 s decompressing itself), busybox-static as init, dropbear
// with a host key made here, root's authorized_keys for a client key made
// here, the virtio-net, evdev and ACPI button modules (so QMP
// system_powerdown works through busybox acpid) and, optionally, the
// project's cube-agent. See docs/cvm-facts.md §8.
//
// It is test support, shared by the launch tests and the TUI's: every
// missing tool skips the test through internal/testenv (and fails it under
// CUBE_HAL_REQUIRE_TOOLS=1).
package testimage

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/shellquote"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// Options shape the guest.
type Options struct {
	// Agent, when set, is a cube-agent binary to install as /bin/cube-agent
	// and start at boot (BuildAgent makes one from this checkout).
	Agent string
	// AgentPort is the agent's port inside the guest (default 7001).
	AgentPort int
	// AgentEnv are extra KEY=VALUE lines for the agent's environment.
	AgentEnv []string
}

// Append is the kernel command line to boot the image with: "quiet" keeps
// the kernel's boot messages off the emulated serial port, which saves
// seconds under TCG (user space still writes "testimage: up" there).
const Append = "console=ttyS0 quiet"

// Image is a built guest.
type Image struct {
	Dir        string // an images directory: vmlinux and rootfs.cpio.gz
	Kernel     string // Dir/vmlinux
	Initrd     string // Dir/rootfs.cpio.gz
	KernelVer  string // e.g. 6.1.0-56-amd64 (what `uname -r` says in the guest)
	ClientKey  string // private key root's authorized_keys trusts (mode 0600)
	HostPubKey string // the guest's SSH host key: "ssh-ed25519 AAAA..."
}

// KnownHostsLine pins the guest's host key under name (a HostKeyAlias).
func (im *Image) KnownHostsLine(name string) string { return name + " " + im.HostPubKey + "\n" }

// Build makes the guest in a fresh temporary directory of tb.
func Build(tb testing.TB, o Options) *Image {
	tb.Helper()
	testenv.Tool(tb, "dropbear", "dropbearkey", "ssh-keygen", "modprobe", "xz")
	busybox := testenv.File(tb, "/bin/busybox", "busybox-static")
	if !isStatic(busybox) {
		testenv.Missing(tb, "/bin/busybox is not statically linked (install busybox-static)")
	}
	if o.AgentPort == 0 {
		o.AgentPort = 7001
	}
	bootKernel, ver := findKernel(tb)
	dir := tb.TempDir()
	im := &Image{Dir: dir, KernelVer: ver, Kernel: filepath.Join(dir, "vmlinux"), Initrd: filepath.Join(dir, "rootfs.cpio.gz")}

	vmlinux, err := vmlinuxFor(bootKernel)
	if err != nil {
		tb.Fatalf("extracting vmlinux from %s: %v", bootKernel, err)
	}
	if err := os.Link(vmlinux, im.Kernel); err != nil {
		if err := copyFile(vmlinux, im.Kernel); err != nil {
			tb.Fatal(err)
		}
	}

	keys := filepath.Join(dir, "keys")
	os.MkdirAll(keys, 0o700)
	im.ClientKey = filepath.Join(keys, "id_ed25519")
	run(tb, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "cube-hal-test", "-f", im.ClientKey)
	clientPub, err := os.ReadFile(im.ClientKey + ".pub")
	if err != nil {
		tb.Fatal(err)
	}
	hostKey := filepath.Join(keys, "dropbear_ed25519_host_key")
	run(tb, "dropbearkey", "-t", "ed25519", "-f", hostKey)
	pub := run(tb, "dropbearkey", "-y", "-f", hostKey)
	for _, line := range strings.Split(pub, "\n") {
		if strings.HasPrefix(line, "ssh-ed25519 ") {
			f := strings.Fields(line)
			im.HostPubKey = f[0] + " " + f[1]
		}
	}
	if im.HostPubKey == "" {
		tb.Fatalf("dropbearkey -y printed no ssh-ed25519 key:\n%s", pub)
	}

	a := newArchive()
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "etc/dropbear", "etc/acpi", "etc/acpi/PWRF",
		"proc", "sys", "dev", "tmp", "run", "var", "var/run", "var/log", "lib", "lib64", "root", "lib/modules"} {
		a.dir(d, 0o755)
	}
	a.dir("root/.ssh", 0o700)
	a.fileFrom(tb, "bin/busybox", busybox, 0o755)
	// The applets init needs before `busybox --install` ran.
	a.symlink("bin/sh", "busybox")

	// dropbear and the shared libraries it needs, with the loader.
	a.fileFrom(tb, "usr/sbin/dropbear", mustLook(tb, "dropbear"), 0o755)
	libs, interp, err := sharedLibs(mustLook(tb, "dropbear"))
	if err != nil {
		tb.Fatalf("resolving dropbear's libraries: %v", err)
	}
	for _, l := range libs {
		a.fileFrom(tb, strings.TrimPrefix(l.guest, "/"), l.host, 0o755)
	}
	a.fileFrom(tb, strings.TrimPrefix(interp.guest, "/"), interp.host, 0o755)
	hk, _ := os.ReadFile(hostKey)
	a.file("etc/dropbear/dropbear_ed25519_host_key", hk, 0o600)
	a.file("root/.ssh/authorized_keys", clientPub, 0o600)
	a.file("etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	a.file("etc/shadow", []byte("root:*:19000:0:99999:7:::\n"), 0o600)
	a.file("etc/group", []byte("root:x:0:\n"), 0o644)
	a.file("etc/shells", []byte("/bin/sh\n"), 0o644)

	// Modules, in dependency order.
	var insmods []string
	seen := map[string]bool{}
	for _, m := range []string{"virtio_pci", "virtio_net", "evdev", "button"} {
		out := run(tb, "modprobe", "-S", ver, "--show-depends", m)
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "insmod" || seen[f[1]] {
				continue
			}
			seen[f[1]] = true
			if strings.HasSuffix(f[1], ".xz") || strings.HasSuffix(f[1], ".zst") || strings.HasSuffix(f[1], ".gz") {
				tb.Fatalf("module %s is compressed; busybox insmod needs plain .ko files", f[1])
			}
			a.fileFrom(tb, strings.TrimPrefix(f[1], "/"), f[1], 0o644)
			insmods = append(insmods, f[1])
		}
	}

	if o.Agent != "" {
		a.fileFrom(tb, "bin/cube-agent", o.Agent, 0o755)
	}
	agentEnv := append([]string{
		fmt.Sprintf("UV_CUBE_AGENT_PORT=%d", o.AgentPort),
		"UV_CUBE_AGENT_HOST=0.0.0.0",
	}, o.AgentEnv...)
	var env strings.Builder
	for _, e := range agentEnv {
		fmt.Fprintf(&env, "export %s\n", shellquote.Quote(e))
	}
	a.file("etc/agent.env", []byte(env.String()), 0o600)

	var initSh strings.Builder
	initSh.WriteString(`#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
echo "testimage: loading modules"
`)
	for _, m := range insmods {
		fmt.Fprintf(&initSh, "insmod %s\n", m)
	}
	initSh.WriteString(`exec /sbin/init
`)
	a.file("init", []byte(initSh.String()), 0o755)
	a.file("etc/inittab", []byte(`::sysinit:/etc/rc
ttyS0::askfirst:-/bin/sh
::ctrlaltdel:/sbin/poweroff
::shutdown:/bin/echo "testimage: shutting down"
`), 0o644)
	a.file("etc/rc", []byte(`#!/bin/sh
hostname cube-test
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
acpid
/usr/sbin/dropbear -r /etc/dropbear/dropbear_ed25519_host_key -s -p 22
if [ -x /bin/cube-agent ]; then
	( . /etc/agent.env; exec /bin/cube-agent ) >/dev/ttyS0 2>&1 &
fi
echo "testimage: up"
`), 0o755)
	// busybox acpid runs /etc/acpi/PWRF/* for the power button.
	a.file("etc/acpi/PWRF/00000080", []byte("#!/bin/sh\npoweroff\n"), 0o755)

	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if _, err := zw.Write(a.bytes()); err != nil {
		tb.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(im.Initrd, gz.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return im
}

var (
	agentOnce sync.Once
	agentPath string
	agentErr  error
)

// BuildAgent builds ./agent/cmd/cube-agent of this checkout (static,
// CGO_ENABLED=0) once per test process and returns its path.
func BuildAgent(tb testing.TB) string {
	tb.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = testenv.Tool(tb, "go")[0]
	}
	agentOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cube-hal-testagent-")
		if err != nil {
			agentErr = err
			return
		}
		agentPath = filepath.Join(dir, "cube-agent")
		cmd := exec.Command(goBin, "build", "-trimpath", "-o", agentPath, "./agent/cmd/cube-agent")
		cmd.Dir = testenv.RepoRoot(tb)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			agentErr = fmt.Errorf("go build ./agent/cmd/cube-agent: %v\n%s", err, out)
		}
	})
	if agentErr != nil {
		tb.Fatal(agentErr)
	}
	return agentPath
}

func findKernel(tb testing.TB) (path, ver string) {
	tb.Helper()
	ks, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Strings(ks)
	for i := len(ks) - 1; i >= 0; i-- {
		v := strings.TrimPrefix(filepath.Base(ks[i]), "vmlinuz-")
		if _, err := os.Stat(filepath.Join("/lib/modules", v, "modules.dep")); err == nil {
			return ks[i], v
		}
	}
	testenv.Missing(tb, "a kernel in /boot/vmlinuz-* with its modules (install linux-image-amd64)")
	return "", ""
}

var vmlinuxMu sync.Mutex

// vmlinuxFor extracts the uncompressed kernel from a bzImage once and
// caches it beside the user's Go build cache, keyed by the bzImage's size
// and modification time.
func vmlinuxFor(bz string) (string, error) {
	vmlinuxMu.Lock()
	defer vmlinuxMu.Unlock()
	st, err := os.Stat(bz)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "cube-hal", "testimage")
	out := filepath.Join(dir, fmt.Sprintf("vmlinux-%s-%d-%d", filepath.Base(bz), st.Size(), st.ModTime().Unix()))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := os.ReadFile(bz)
	if err != nil {
		return "", err
	}
	elfBytes, err := ExtractVmlinux(data)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".vmlinux-*")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(elfBytes); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	tmp.Close()
	return out, os.Rename(tmp.Name(), out)
}

// ExtractVmlinux returns the ELF kernel inside an x86 bzImage whose payload
// is XZ-compressed (Debian's), using the boot protocol header (2.08+):
// setup_sects at 0x1f1, payload_offset and payload_length at 0x248/0x24c.
func ExtractVmlinux(bz []byte) ([]byte, error) {
	if len(bz) < 0x250 || string(bz[0x202:0x206]) != "HdrS" {
		return nil, fmt.Errorf("not a bzImage (no HdrS boot header)")
	}
	if v := binary.LittleEndian.Uint16(bz[0x206:]); v < 0x208 {
		return nil, fmt.Errorf("boot protocol %#x too old (need 2.08 for payload_offset)", v)
	}
	setup := int(bz[0x1f1])
	if setup == 0 {
		setup = 4
	}
	off := (setup+1)*512 + int(binary.LittleEndian.Uint32(bz[0x248:]))
	n := int(binary.LittleEndian.Uint32(bz[0x24c:]))
	if off < 0 || n <= 0 || off+n > len(bz) {
		return nil, fmt.Errorf("payload %d+%d outside the file (%d bytes)", off, n, len(bz))
	}
	payload := bz[off : off+n]
	if !bytes.HasPrefix(payload, []byte("\xfd7zXZ\x00")) {
		return nil, fmt.Errorf("payload is not XZ (starts %x); only XZ kernels are supported", payload[:min(6, len(payload))])
	}
	// Debian's payload uses the x86 BCJ filter, which Go's xz readers lack:
	// xz(1) decodes it; --single-stream ignores the size word after it.
	cmd := exec.Command("xz", "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(payload)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("xz -dc: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if !bytes.HasPrefix(out, []byte("\x7fELF")) {
		return nil, fmt.Errorf("decompressed payload is not an ELF kernel")
	}
	return out, nil
}

type lib struct{ host, guest string }

// sharedLibs resolves an ELF binary's libraries (recursively) to host
// files, and its program interpreter.
func sharedLibs(bin string) ([]lib, lib, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, lib{}, err
	}
	var interp lib
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, _ := io.ReadAll(p.Open())
			interp.guest = strings.TrimRight(string(b), "\x00")
		}
	}
	f.Close()
	if interp.guest == "" {
		return nil, interp, fmt.Errorf("%s has no program interpreter (static?)", bin)
	}
	if interp.host, err = filepath.EvalSymlinks(interp.guest); err != nil {
		return nil, interp, err
	}
	dirs := []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	var out []lib
	seen := map[string]bool{}
	queue := []string{bin}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		ef, err := elf.Open(cur)
		if err != nil {
			return nil, interp, err
		}
		needed, err := ef.ImportedLibraries()
		ef.Close()
		if err != nil {
			return nil, interp, err
		}
		for _, n := range needed {
			if seen[n] || strings.HasPrefix(n, "ld-linux") {
				continue
			}
			seen[n] = true
			found := ""
			for _, d := range dirs {
				if _, err := os.Stat(filepath.Join(d, n)); err == nil {
					found = filepath.Join(d, n)
					break
				}
			}
			if found == "" {
				return nil, interp, fmt.Errorf("library %s (needed by %s) not found", n, cur)
			}
			real, err := filepath.EvalSymlinks(found)
			if err != nil {
				return nil, interp, err
			}
			out = append(out, lib{host: real, guest: "/lib/x86_64-linux-gnu/" + n})
			queue = append(queue, real)
		}
	}
	return out, interp, nil
}

func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

func mustLook(tb testing.TB, name string) string {
	tb.Helper()
	return testenv.Tool(tb, name)[0]
}

func run(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
