// Package hosttest builds fake machines for tests of code that reads
// package host: a temporary root with /proc, /sys, /dev and /usr files, and
// a directory of shell scripts standing in for programs (QEMU, gcc, ...).
// Start from a preset (SNPHost, TDXHost, PVMGuest, Bare) and change what
// the test is about.
package hosttest

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/host"
	"github.com/ultravioletrs/cube-hal/internal/ovmf"
)

// Machine is a fake machine under construction.
type Machine struct {
	tb   testing.TB
	Root string // the fake /
	Bin  string // the fake PATH (one directory)
	// Avail and Total are what statfs reports for every path.
	Avail, Total uint64
	StatfsErr    error
}

// Bare is a machine with nothing at all: no /proc, no tools.
func Bare(tb testing.TB) *Machine {
	tb.Helper()
	d := tb.TempDir()
	m := &Machine{tb: tb, Root: filepath.Join(d, "root"), Bin: filepath.Join(d, "bin"), Avail: 100 << 30, Total: 200 << 30}
	for _, p := range []string{m.Root, m.Bin} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return m
}

// Host returns a host.Host reading this machine.
func (m *Machine) Host() *host.Host {
	return &host.Host{
		Root: m.Root,
		Path: m.Bin,
		Statfs: func(string) (uint64, uint64, error) {
			return m.Avail, m.Total, m.StatfsErr
		},
	}
}

// File writes content at the system path p (e.g. "/proc/cpuinfo").
func (m *Machine) File(p, content string) *Machine {
	m.tb.Helper()
	real := filepath.Join(m.Root, p)
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		m.tb.Fatal(err)
	}
	if err := os.WriteFile(real, []byte(content), 0o644); err != nil {
		m.tb.Fatal(err)
	}
	return m
}

// Dir creates the directory at system path p (e.g. "/sys/module/kvm").
func (m *Machine) Dir(p string) *Machine {
	m.tb.Helper()
	if err := os.MkdirAll(filepath.Join(m.Root, p), 0o755); err != nil {
		m.tb.Fatal(err)
	}
	return m
}

// Remove deletes the system path p and everything under it.
func (m *Machine) Remove(p string) *Machine {
	m.tb.Helper()
	if err := os.RemoveAll(filepath.Join(m.Root, p)); err != nil {
		m.tb.Fatal(err)
	}
	return m
}

// Device creates a device node stand-in at p that opens read-write. A
// regular file is enough: host only opens and closes it.
func (m *Machine) Device(p string) *Machine { return m.File(p, "") }

// LockedDevice creates something at p that exists but cannot be opened
// read-write, even by root (a directory), like a /dev/kvm outside the
// user's groups.
func (m *Machine) LockedDevice(p string) *Machine { return m.Remove(p).Dir(p) }

// Tool puts an executable shell script named name on the fake PATH.
func (m *Machine) Tool(name, script string) *Machine {
	m.tb.Helper()
	if err := os.WriteFile(filepath.Join(m.Bin, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		m.tb.Fatal(err)
	}
	return m
}

// RemoveTool takes name off the fake PATH.
func (m *Machine) RemoveTool(name string) *Machine {
	m.tb.Helper()
	if err := os.Remove(filepath.Join(m.Bin, name)); err != nil && !os.IsNotExist(err) {
		m.tb.Fatal(err)
	}
	return m
}

// CPUInfo writes a /proc/cpuinfo with n processors of vendor with flags.
func (m *Machine) CPUInfo(vendor string, n int, flags ...string) *Machine {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("processor\t: " + strconv.Itoa(i) + "\nvendor_id\t: " + vendor +
			"\ncpu family\t: 25\nmodel\t\t: 1\nmodel name\t: Fake CPU\nstepping\t: 1\nflags\t\t: " +
			strings.Join(flags, " ") + "\n\n")
	}
	m.File("/sys/devices/system/cpu/online", "0-"+strconv.Itoa(n-1)+"\n")
	return m.File("/proc/cpuinfo", b.String())
}

// Memory writes /proc/meminfo with total and available bytes.
func (m *Machine) Memory(total, avail uint64) *Machine {
	return m.File("/proc/meminfo", "MemTotal:       "+strconv.Itoa(int(total>>10))+" kB\nMemFree:        "+
		strconv.Itoa(int(avail>>10))+" kB\nMemAvailable:   "+strconv.Itoa(int(avail>>10))+" kB\n")
}

// Module marks kernel modules as loaded (/sys/module/<name>).
func (m *Machine) Module(names ...string) *Machine {
	for _, n := range names {
		m.Dir("/sys/module/" + n)
	}
	return m
}

// Param writes /sys/module/<module>/parameters/<name>.
func (m *Machine) Param(module, name, value string) *Machine {
	return m.File("/sys/module/"+module+"/parameters/"+name, value+"\n")
}

// BuildTools puts every program doctor requires for a build on PATH.
func (m *Machine) BuildTools() *Machine {
	for _, t := range []string{"gcc", "g++", "make", "git", "bc", "cpio", "unzip", "rsync", "wget", "python3", "perl", "file", "patch"} {
		m.Tool(t, "exit 0")
	}
	return m
}

// QEMU installs a fake qemu-system-x86_64 that answers --version with
// "QEMU emulator version <version>", -object help with objects and -accel
// help with kvm and tcg.
func (m *Machine) QEMU(version string, objects ...string) *Machine {
	return m.Tool(host.DefaultQEMU, `case "$1" in
--version) echo "QEMU emulator version `+version+`"; echo "Copyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers";;
-object) echo "List of user creatable objects:"; for o in `+strings.Join(objects, " ")+`; do echo "  $o"; done;;
-accel) printf 'Accelerators supported in QEMU binary:\ntcg\nkvm\n';;
*) echo "qemu-system-x86_64: unexpected arguments: $*" >&2; exit 1;;
esac`)
}

// Objects of the QEMU releases the presets install.
var (
	Objects72  = []string{"memory-backend-memfd", "memory-backend-ram", "sev-guest"}
	Objects101 = []string{"igvm-cfg", "memory-backend-memfd", "memory-backend-ram", "sev-guest", "sev-snp-guest", "tdx-guest"}
)

// FirmwareImage returns a small OVMF image ending in a GUIDed table with
// entries, laid out as edk2's reset vector does.
func FirmwareImage(entries ...ovmf.Entry) []byte {
	return ovmf.AppendTable(make([]byte, 4096), entries...)
}

// Standard OVMF images: Debian's OvmfPkgX64 build (SEV-SNP and TDX
// metadata, no kernel-hashes area) and an AmdSevX64 build (kernel-hashes).
var (
	DebianOVMF = FirmwareImage(
		ovmf.Entry{GUID: ovmf.SEVHashTable, Data: make([]byte, 8)},
		ovmf.Entry{GUID: ovmf.SEVMetadata, Data: le32(0x52c)},
		ovmf.Entry{GUID: ovmf.TDXMetadata, Data: le32(0x840)})
	AmdSevOVMF = FirmwareImage(
		ovmf.Entry{GUID: ovmf.SEVMetadata, Data: le32(0x52c)},
		ovmf.Entry{GUID: ovmf.SEVHashTable, Data: append(le32(0x80c000), le32(0x400)...)})
)

// OVMF writes a firmware image at the system path p.
func (m *Machine) OVMF(p string, image []byte) *Machine { return m.File(p, string(image)) }

// common is what every preset host has: a kernel, memory, build tools,
// ncurses headers and Debian's OVMF.
func (m *Machine) common() *Machine {
	return m.File("/proc/sys/kernel/osrelease", "6.12.0-fake\n").
		Memory(32<<30, 30<<30).
		BuildTools().
		File("/usr/include/ncurses.h", "").
		OVMF("/usr/share/ovmf/OVMF.fd", DebianOVMF)
}

// SNPHost is an AMD EPYC host ready for SEV-SNP guests: svm and sev_snp
// flags, kvm_amd with sev_snp=Y, /dev/kvm and /dev/sev, QEMU 10.1 and an
// AmdSevX64 OVMF beside Debian's.
func SNPHost(tb testing.TB) *Machine {
	m := Bare(tb).common().
		CPUInfo("AuthenticAMD", 16, "fpu", "svm", "sev", "sev_es", "sev_snp").
		Module("kvm", "kvm_amd").
		Param("kvm_amd", "sev", "Y").Param("kvm_amd", "sev_es", "Y").Param("kvm_amd", "sev_snp", "Y").
		Device("/dev/kvm").Device("/dev/sev").Device("/dev/vhost-vsock").
		QEMU("10.1.0", Objects101...).
		OVMF("/usr/share/ovmf/OVMF.amdsev.fd", AmdSevOVMF)
	return m
}

// TDXHost is an Intel host ready for TDX guests: vmx and
// tdx_host_platform, kvm_intel with tdx=Y, /dev/kvm, the SGX devices for
// quotes, QEMU 10.1.
func TDXHost(tb testing.TB) *Machine {
	return Bare(tb).common().
		CPUInfo("GenuineIntel", 16, "fpu", "vmx", "tdx_host_platform").
		Module("kvm", "kvm_intel").
		Param("kvm_intel", "tdx", "Y").
		Device("/dev/kvm").Device("/dev/vhost-vsock").Device("/dev/sgx_enclave").Device("/dev/sgx_provision").
		QEMU("10.1.0", Objects101...)
}

// PVMGuest is the shape of the machines cube-hal is developed on: an AMD
// VM whose /dev/kvm comes from the paravirtualised kvm_pvm module while
// the CPU has neither vmx nor svm (KVM present but unusable), 2 cores,
// Debian's QEMU 7.2 and OVMF.
func PVMGuest(tb testing.TB) *Machine {
	return Bare(tb).common().
		CPUInfo("AuthenticAMD", 2, "fpu", "hypervisor", "sse4a").
		Module("kvm", "kvm_pvm").
		Device("/dev/kvm").
		QEMU("7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)", Objects72...)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
