// Package launch starts the Cube HAL image as an AMD SEV-SNP, Intel TDX or
// plain QEMU VM, watches it, reaches it over SSH and stops it cleanly.
//
// The QEMU command line is built as data (Config.Args) from upstream QEMU
// syntax (SNP since QEMU 9.1, TDX since 10.1); see docs/cvm-facts.md §1.
// Assess decides, from HostFacts, which modes this host can run and why
// not. Start runs QEMU under a small keeper process (cube-hal itself,
// re-executed) that owns the VM for its whole life: QEMU dies with its
// keeper (parent-death signal), and the keeper kills QEMU when the process
// that launched it dies before the VM was handed over, so no QEMU is ever
// left behind. List, Open, Stop, FollowSerial and SSHArgs are the API the
// CLI and the TUI share.
package launch

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mode is how the VM is launched.
type Mode string

// The launch modes.
const (
	ModeSNP   Mode = "snp"   // AMD SEV-SNP confidential VM (QEMU >= 9.1, KVM)
	ModeTDX   Mode = "tdx"   // Intel TDX confidential VM (QEMU >= 10.1, KVM)
	ModePlain Mode = "plain" // ordinary VM: KVM when usable, else TCG
)

// Modes lists every mode, in the order they are shown.
var Modes = []Mode{ModeSNP, ModeTDX, ModePlain}

// ParseMode accepts "snp", "tdx" or "plain".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case ModeSNP, ModeTDX, ModePlain:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want snp, tdx or plain)", s)
}

// Accel is the QEMU accelerator.
type Accel string

// Accelerators. AccelAuto (plain mode only) picks KVM when it is usable.
const (
	AccelAuto Accel = ""
	AccelKVM  Accel = "kvm"
	AccelTCG  Accel = "tcg"
)

// ParseAccel accepts "auto", "kvm" or "tcg".
func ParseAccel(s string) (Accel, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return AccelAuto, nil
	case "kvm":
		return AccelKVM, nil
	case "tcg":
		return AccelTCG, nil
	}
	return "", fmt.Errorf("unknown accelerator %q (want auto, kvm or tcg)", s)
}

// Default ports: Cube's documented forwards (cvm-facts §1.4).
const (
	DefaultSSHPort        = 6190 // host port forwarded to the guest's SSH (22)
	DefaultAgentPort      = 6193 // host port forwarded to the guest agent
	DefaultGuestAgentPort = 7001 // the agent's port in Cube's Buildroot image
	DefaultName           = "cube-ai-vm"
	DefaultAppend         = "console=ttyS0"
)

// SNPOptions are the sev-snp-guest object's properties (cvm-facts §1.0-1.1).
type SNPOptions struct {
	CBitPos         int    // C-bit position; 51 on current EPYC parts
	ReducedPhysBits int    // mandatory in QEMU; 1 on current EPYC parts
	Policy          uint64 // guest policy; QEMU's default 0x30000
	KernelHashes    bool   // measure kernel, initrd and cmdline (needs AmdSevX64 OVMF)
	HostData        string // optional base64 of 32 bytes, ends up in the report's HOST_DATA
	CPUModel        string // -cpu; goes into the VMSA and so into the measurement
}

// TDXOptions are the tdx-guest object's properties (cvm-facts §1.2).
type TDXOptions struct {
	// QGS is the quote generation service socket: "vsock:CID:PORT",
	// "unix:PATH", or "none" to omit it (the guest then cannot get quotes).
	QGS string
}

// DefaultSNP and DefaultTDX are the values of cvm-facts §1.1 and §1.2.
var (
	DefaultSNP = SNPOptions{CBitPos: 51, ReducedPhysBits: 1, Policy: 0x30000, KernelHashes: true, CPUModel: "EPYC-v4"}
	DefaultTDX = TDXOptions{QGS: "vsock:2:4050"}
)

// Ports are the host-side ends of the forwards (bound to 127.0.0.1 only)
// and the guest agent's port.
type Ports struct {
	SSH        int `json:"ssh"`         // host port → guest 22
	Agent      int `json:"agent"`       // host port → guest agent
	GuestAgent int `json:"guest_agent"` // the agent's port inside the guest
}

// Config is everything that goes into the QEMU command line.
type Config struct {
	Mode     Mode
	QEMU     string // the QEMU binary; default qemu-system-x86_64 on PATH
	Name     string // VM name (-name, run directory); default cube-ai-vm
	Kernel   string // -kernel
	Initrd   string // -initrd (may be empty)
	Append   string // -append; default "console=ttyS0"
	Firmware string // -bios; required for snp and tdx, optional for plain
	MemoryMB int    // -m; default 8G (snp, tdx) or 2G (plain)
	CPUs     int    // -smp; default 4 (snp, tdx) or 2 (plain)
	Accel    Accel  // plain only: auto, kvm or tcg; snp and tdx always use KVM
	Ports    Ports
	// RestrictNet sets restrict=on on the user network: the guest reaches
	// nothing outside QEMU while the port forwards still work (tests).
	RestrictNet bool
	SNP         SNPOptions
	TDX         TDXOptions
}

// RunPaths are the per-VM files QEMU is pointed at.
type RunPaths struct {
	QMPSocket    string // QMP control socket
	SerialSocket string // serial console, interactive (one client at a time)
	SerialLog    string // serial console, everything the guest printed
	PIDFile      string // QEMU's own pidfile
}

// PathsIn returns the standard RunPaths inside a VM's run directory.
func PathsIn(dir string) RunPaths {
	return RunPaths{
		QMPSocket:    filepath.Join(dir, "qmp.sock"),
		SerialSocket: filepath.Join(dir, "serial.sock"),
		SerialLog:    filepath.Join(dir, "serial.log"),
		PIDFile:      filepath.Join(dir, "qemu.pid"),
	}
}

// WithDefaults returns c with empty fields filled in.
func (c Config) WithDefaults() Config {
	if c.QEMU == "" {
		c.QEMU = "qemu-system-x86_64"
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Append == "" {
		c.Append = DefaultAppend
	}
	confidential := c.Mode == ModeSNP || c.Mode == ModeTDX
	if c.MemoryMB == 0 {
		c.MemoryMB = 2048
		if confidential {
			c.MemoryMB = 8192
		}
	}
	if c.CPUs == 0 {
		c.CPUs = 2
		if confidential {
			c.CPUs = 4
		}
	}
	if c.Ports.SSH == 0 {
		c.Ports.SSH = DefaultSSHPort
	}
	if c.Ports.Agent == 0 {
		c.Ports.Agent = DefaultAgentPort
	}
	if c.Ports.GuestAgent == 0 {
		c.Ports.GuestAgent = DefaultGuestAgentPort
	}
	if c.Mode == ModeSNP && c.SNP == (SNPOptions{}) {
		c.SNP = DefaultSNP
	}
	if c.Mode == ModeSNP && c.SNP.CPUModel == "" {
		c.SNP.CPUModel = DefaultSNP.CPUModel
	}
	if c.Mode == ModeTDX && c.TDX.QGS == "" {
		c.TDX = DefaultTDX
	}
	return c
}

// Validate checks the configuration for mistakes a user can make, naming
// the field at fault. It does not look at the host (see Assess).
func (c Config) Validate() error {
	switch c.Mode {
	case ModeSNP, ModeTDX, ModePlain:
	default:
		return fmt.Errorf("mode: unknown mode %q (want snp, tdx or plain)", c.Mode)
	}
	if !validName(c.Name) {
		return fmt.Errorf("name %q: use letters, digits, '-', '_' and '.' only (it names the run directory)", c.Name)
	}
	if c.Kernel == "" {
		return fmt.Errorf("kernel: no kernel image given")
	}
	for _, f := range []struct{ what, path string }{{"kernel", c.Kernel}, {"initrd", c.Initrd}, {"firmware", c.Firmware}} {
		if f.path == "" {
			continue
		}
		st, err := os.Stat(f.path)
		if err != nil {
			return fmt.Errorf("%s %s: %w", f.what, f.path, unwrapPathError(err))
		}
		if st.IsDir() {
			return fmt.Errorf("%s %s: is a directory, want a file", f.what, f.path)
		}
	}
	if (c.Mode == ModeSNP || c.Mode == ModeTDX) && c.Firmware == "" {
		return fmt.Errorf("firmware: %s needs firmware loaded with -bios (an OVMF.fd%s)", c.Mode,
			map[Mode]string{ModeSNP: " built from OvmfPkg/AmdSev/AmdSevX64.dsc", ModeTDX: " with TDX support (TDVF)"}[c.Mode])
	}
	if c.MemoryMB < 64 {
		return fmt.Errorf("memory: %d MiB is too little (at least 64M)", c.MemoryMB)
	}
	if c.CPUs < 1 || c.CPUs > 255 {
		return fmt.Errorf("cpus: %d out of range 1-255", c.CPUs)
	}
	for _, p := range []struct {
		what string
		v    int
	}{{"ssh port", c.Ports.SSH}, {"agent port", c.Ports.Agent}, {"guest agent port", c.Ports.GuestAgent}} {
		if p.v < 1 || p.v > 65535 {
			return fmt.Errorf("%s: %d out of range 1-65535", p.what, p.v)
		}
	}
	if c.Ports.SSH == c.Ports.Agent {
		return fmt.Errorf("ports: ssh and agent both use host port %d", c.Ports.SSH)
	}
	if c.Mode != ModePlain && c.Accel == AccelTCG {
		return fmt.Errorf("accel: %s needs KVM; tcg only works in plain mode", c.Mode)
	}
	if strings.ContainsAny(c.Append, "\n\x00") {
		return fmt.Errorf("append: the kernel command line must be one line")
	}
	if c.Mode == ModeSNP {
		if c.SNP.HostData != "" {
			b, err := base64.StdEncoding.DecodeString(c.SNP.HostData)
			if err != nil || len(b) != 32 {
				return fmt.Errorf("host-data: want base64 of exactly 32 bytes, got %q", c.SNP.HostData)
			}
		}
		if c.SNP.CBitPos < 32 || c.SNP.CBitPos > 63 {
			return fmt.Errorf("cbitpos: %d out of range 32-63", c.SNP.CBitPos)
		}
	}
	if c.Mode == ModeTDX {
		if _, err := qgsAddress(c.TDX.QGS); err != nil {
			return err
		}
	}
	return nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// ParseMemory reads a QEMU-style size ("512M", "8G", "8192" = MiB) as MiB.
func ParseMemory(s string) (int, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	t = strings.TrimSuffix(t, "B")
	t = strings.TrimSuffix(t, "I")
	mult := 1
	switch {
	case strings.HasSuffix(t, "G"):
		mult, t = 1024, strings.TrimSuffix(t, "G")
	case strings.HasSuffix(t, "T"):
		mult, t = 1024*1024, strings.TrimSuffix(t, "T")
	case strings.HasSuffix(t, "M"):
		t = strings.TrimSuffix(t, "M")
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("memory %q: want a size like 512M or 8G", s)
	}
	if n > (1<<30)/mult { // 1 PiB: far beyond any host, and no overflow
		return 0, fmt.Errorf("memory %q: too large", s)
	}
	return n * mult, nil
}

// FormatMemory writes MiB the way QEMU reads it: "8G" or "512M".
func FormatMemory(mb int) string {
	if mb%1024 == 0 {
		return strconv.Itoa(mb/1024) + "G"
	}
	return strconv.Itoa(mb) + "M"
}

// Images are the boot files found in an images directory.
type Images struct {
	Kernel   string
	Initrd   string
	Firmware string // "" when the directory has none
}

// Image file names looked for, in order of preference. Buildroot writes
// bzImage and rootfs.cpio.gz; edk2 writes OVMF.fd; `cube-hal deploy` keeps
// the names. vmlinux (an uncompressed kernel, booted through its PVH
// entry) boots much faster under TCG.
var (
	KernelNames   = []string{"bzImage", "vmlinux"}
	InitrdNames   = []string{"rootfs.cpio.gz", "rootfs.cpio.zst", "rootfs.cpio.xz", "rootfs.cpio"}
	FirmwareNames = []string{"OVMF.fd", "OVMF.amdsev.fd", "OVMF.tdx.fd"}
)

// FindImages looks for the kernel, initramfs and firmware in dir. A
// missing kernel or initramfs is an error naming what was looked for.
func FindImages(dir string) (Images, error) {
	var im Images
	first := func(names []string) string {
		for _, n := range names {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
		return ""
	}
	if st, err := os.Stat(dir); err != nil {
		return im, fmt.Errorf("images directory %s: %w", dir, unwrapPathError(err))
	} else if !st.IsDir() {
		return im, fmt.Errorf("images directory %s: not a directory", dir)
	}
	im.Kernel = first(KernelNames)
	if im.Kernel == "" {
		return im, fmt.Errorf("images directory %s: no kernel (looked for %s)", dir, strings.Join(KernelNames, ", "))
	}
	im.Initrd = first(InitrdNames)
	if im.Initrd == "" {
		return im, fmt.Errorf("images directory %s: no initramfs (looked for %s)", dir, strings.Join(InitrdNames, ", "))
	}
	im.Firmware = first(FirmwareNames)
	return im, nil
}
