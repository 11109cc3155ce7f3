package launch

import (
	"fmt"
	"os"
	"strings"

	"github.com/ultravioletrs/cube-hal/host"
)

// Verdict says whether this host can run a mode and, when not, exactly why.
type Verdict struct {
	Mode Mode
	OK   bool
	// Accel is the accelerator the mode will use (plain mode: KVM when it
	// is usable, else TCG).
	Accel Accel
	// Reasons are the blocking problems, one sentence each with the fix.
	Reasons []string
	// Notes are facts worth showing that do not block (why TCG, a forced
	// accelerator, missing quote generation).
	Notes []string
}

// Error joins the reasons into one error, or nil when the mode can run.
func (v Verdict) Error() error {
	if v.OK {
		return nil
	}
	return fmt.Errorf("this host cannot run %s: %s", modeTitle(v.Mode), strings.Join(v.Reasons, "; "))
}

func modeTitle(m Mode) string {
	switch m {
	case ModeSNP:
		return "SEV-SNP VMs"
	case ModeTDX:
		return "TDX VMs"
	}
	return "plain VMs"
}

// KVMUsable says whether KVM can run a stock kernel here, and why not:
// /dev/kvm must open read-write AND the CPU must report vmx or svm. Hosts
// with a paravirtualised /dev/kvm but neither flag hang or abort under
// -accel kvm (cvm-facts §8). Package host applies that rule.
func KVMUsable(f HostFacts) (bool, string) { return f.KVM.Usable, f.KVM.Why }

// Assess decides whether mode can run on the host described by f, with
// firmware (the -bios file; "" when none was found) and the requested
// accelerator (plain mode only). It reads nothing but the firmware path.
func Assess(f HostFacts, mode Mode, firmware string, accel Accel) Verdict {
	v := Verdict{Mode: mode, Accel: AccelKVM}
	fail := func(format string, args ...any) { v.Reasons = append(v.Reasons, fmt.Sprintf(format, args...)) }

	qemuOK := f.QEMU.Found() && f.QEMU.Err == ""
	switch {
	case !f.QEMU.Found():
		fail("%s not found (install qemu-system-x86, or pass --qemu PATH)", f.QEMU.Name)
	case !qemuOK:
		fail("QEMU does not answer: %s", f.QEMU.Err)
	}
	kvmOK, kvmWhy := KVMUsable(f)

	switch mode {
	case ModeSNP:
		for _, p := range host.SNPProblems(f.CPU, f.KVM, f.SEV) {
			fail("%s", p)
		}
		if !kvmOK {
			fail("%s", kvmWhy)
		}
		if qemuOK {
			switch {
			case !f.QEMU.Version.AtLeast(9, 1):
				fail("QEMU %d.%d has no sev-snp-guest; SEV-SNP needs QEMU 9.1 or later", f.QEMU.Version.Major, f.QEMU.Version.Minor)
			case !f.QEMU.HasObject(host.ObjectSEVSNPGuest):
				fail("QEMU %d.%d (%s) was built without sev-snp-guest ('-object help' does not list it)", f.QEMU.Version.Major, f.QEMU.Version.Minor, f.QEMU.Path)
			}
		}
		if checkFirmware(&v, firmware, "SEV-SNP boots OVMF through -bios: pass --firmware with an OVMF.fd built from OvmfPkg/AmdSev/AmdSevX64.dsc, or put OVMF.fd in the images directory") {
			if fw := host.InspectFirmware(firmware); fw.Err == "" && !fw.SEVMetadata {
				fail("firmware %s has no SEV-SNP metadata: it cannot boot an SNP guest (use an OVMF built from OvmfPkg/AmdSev/AmdSevX64.dsc)", firmware)
			}
		}
	case ModeTDX:
		for _, p := range host.TDXProblems(f.CPU, f.KVM, f.TDX) {
			fail("%s", p)
		}
		if !kvmOK {
			fail("%s", kvmWhy)
		}
		if qemuOK {
			switch {
			case !f.QEMU.Version.AtLeast(10, 1):
				fail("QEMU %d.%d has no tdx-guest; TDX needs QEMU 10.1 or later", f.QEMU.Version.Major, f.QEMU.Version.Minor)
			case !f.QEMU.HasObject(host.ObjectTDXGuest):
				fail("QEMU %d.%d (%s) was built without tdx-guest ('-object help' does not list it)", f.QEMU.Version.Major, f.QEMU.Version.Minor, f.QEMU.Path)
			}
		}
		if checkFirmware(&v, firmware, "TDX boots TDVF (an OVMF.fd with TDX support) through -bios: pass --firmware, or put OVMF.fd in the images directory") {
			if fw := host.InspectFirmware(firmware); fw.Err == "" && !fw.TDXMetadata {
				fail("firmware %s has no TDX metadata: it is not a TDVF and cannot boot a TD", firmware)
			}
		}
		v.Notes = append(v.Notes, "TD quotes need Intel's QGS (qgsd) and PCCS running on the host; cube-hal does not check them")
	case ModePlain:
		switch accel {
		case AccelAuto:
			if kvmOK {
				v.Accel = AccelKVM
			} else {
				v.Accel = AccelTCG
				v.Notes = append(v.Notes, "using TCG (software emulation, much slower): "+kvmWhy)
			}
		case AccelKVM:
			v.Accel = AccelKVM
			if !kvmOK {
				v.Notes = append(v.Notes, "KVM forced with --accel kvm although "+kvmWhy)
			}
		case AccelTCG:
			v.Accel = AccelTCG
			if kvmOK {
				v.Notes = append(v.Notes, "TCG forced with --accel tcg although KVM is usable")
			}
		}
		if firmware != "" {
			checkFirmware(&v, firmware, "")
		}
	default:
		fail("unknown mode %q", mode)
	}
	v.OK = len(v.Reasons) == 0
	return v
}

// checkFirmware reports whether the firmware file is there, adding the
// reason to v when not.
func checkFirmware(v *Verdict, firmware, howto string) bool {
	if firmware == "" {
		v.Reasons = append(v.Reasons, "no firmware: "+howto)
		return false
	}
	st, err := os.Stat(firmware)
	switch {
	case err != nil:
		v.Reasons = append(v.Reasons, fmt.Sprintf("firmware %s: %v", firmware, unwrapPathError(err)))
	case st.IsDir():
		v.Reasons = append(v.Reasons, fmt.Sprintf("firmware %s: is a directory, want a file", firmware))
	default:
		return true
	}
	return false
}

// CheckKernelHashes refuses kernel-hashes=on with a firmware that has no
// usable SEV hashes table: QEMU would fail with "SEV: kernel specified but
// guest firmware has no hashes table GUID" (cvm-facts §1.0).
func CheckKernelHashes(firmware string) error {
	fw := host.InspectFirmware(firmware)
	if fw.Err != "" || !fw.SEVMetadata || fw.SEVHashTable {
		return nil // unreadable or not SNP firmware: Assess says so
	}
	return fmt.Errorf("firmware %s has no SEV hashes table, so kernel-hashes=on cannot measure the kernel, initrd and command line (QEMU would refuse it): use an OVMF built from OvmfPkg/AmdSev/AmdSevX64.dsc, or --no-kernel-hashes to boot unmeasured", firmware)
}

// AssessAll gives a verdict for every mode, for capability panels and
// `cube-hal launch --check`. firmware maps a mode to its -bios file.
func AssessAll(f HostFacts, firmware map[Mode]string) []Verdict {
	var out []Verdict
	for _, m := range Modes {
		out = append(out, Assess(f, m, firmware[m], AccelAuto))
	}
	return out
}
