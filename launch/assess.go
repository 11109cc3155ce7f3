package launch

import (
	"fmt"
	"os"
	"strings"
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
// -accel kvm (cvm-facts §8).
func KVMUsable(f HostFacts) (bool, string) {
	switch {
	case !f.KVM.Exists:
		return false, "/dev/kvm is missing (load kvm_intel or kvm_amd, and enable virtualisation in the firmware setup)"
	case !f.KVM.OpenRW:
		return false, fmt.Sprintf("/dev/kvm cannot be opened read-write (%s; add your user to the kvm group or run as root)", f.KVM.Err)
	case f.CPUFlagsErr != nil:
		return false, fmt.Sprintf("cannot read the CPU flags (%v)", f.CPUFlagsErr)
	case !f.CPUFlags["vmx"] && !f.CPUFlags["svm"]:
		return false, "/dev/kvm is present but the CPU flags have neither vmx nor svm (nested or paravirtualised KVM that cannot run a stock guest)"
	}
	return true, ""
}

// Assess decides whether mode can run on the host described by f, with
// firmware (the -bios file; "" when none was found) and the requested
// accelerator (plain mode only). It reads nothing but the firmware path.
func Assess(f HostFacts, mode Mode, firmware string, accel Accel) Verdict {
	v := Verdict{Mode: mode, Accel: AccelKVM}
	fail := func(format string, args ...any) { v.Reasons = append(v.Reasons, fmt.Sprintf(format, args...)) }

	qemuOK := f.QEMU.Err == nil
	if !qemuOK {
		fail("%v", f.QEMU.Err)
	}
	kvmOK, kvmWhy := KVMUsable(f)

	switch mode {
	case ModeSNP:
		if f.CPUFlagsErr == nil && !f.CPUFlags["sev_snp"] {
			fail("the CPU does not report sev_snp in /proc/cpuinfo (needs an AMD EPYC 7003 or later with SEV-SNP enabled in the firmware setup, and a host kernel 6.11 or later)")
		}
		switch f.KVMAMDSNP {
		case "":
			fail("kvm_amd is not loaded (no /sys/module/kvm_amd)")
		case "Y", "y", "1":
		case "?":
			fail("kvm_amd has no sev_snp parameter (the host kernel is too old for SEV-SNP: 6.11 or later is needed)")
		default:
			fail("kvm_amd has SEV-SNP off (/sys/module/kvm_amd/parameters/sev_snp is %q; reload it with sev_snp=1)", f.KVMAMDSNP)
		}
		switch {
		case !f.SEV.Exists:
			fail("/dev/sev is missing (the ccp driver found no AMD secure processor)")
		case !f.SEV.OpenRW:
			fail("/dev/sev cannot be opened read-write (%s; QEMU needs it: run as root or fix its group)", f.SEV.Err)
		}
		if !kvmOK {
			fail("%s", kvmWhy)
		}
		if qemuOK {
			switch {
			case !f.QEMU.AtLeast(9, 1):
				fail("QEMU %d.%d has no sev-snp-guest; SEV-SNP needs QEMU 9.1 or later", f.QEMU.Version[0], f.QEMU.Version[1])
			case !f.QEMU.Objects["sev-snp-guest"]:
				fail("QEMU %d.%d (%s) was built without sev-snp-guest ('-object help' does not list it)", f.QEMU.Version[0], f.QEMU.Version[1], f.QEMU.Path)
			}
		}
		checkFirmware(&v, firmware, "SEV-SNP boots OVMF through -bios: pass --firmware with an OVMF.fd built from OvmfPkg/AmdSev/AmdSevX64.dsc, or put OVMF.fd in the images directory")
	case ModeTDX:
		if f.CPUFlagsErr == nil && !f.CPUFlags["tdx_host_platform"] {
			fail("the CPU does not report tdx_host_platform in /proc/cpuinfo (needs an Intel Xeon with TDX enabled in the firmware setup, and a host kernel with TDX host support)")
		}
		switch f.KVMIntelTDX {
		case "":
			fail("kvm_intel is not loaded (no /sys/module/kvm_intel)")
		case "Y", "y", "1":
		case "?":
			fail("kvm_intel has no tdx parameter (the host kernel has no TDX host support)")
		default:
			fail("kvm_intel has TDX off (/sys/module/kvm_intel/parameters/tdx is %q; reload it with tdx=1)", f.KVMIntelTDX)
		}
		if !kvmOK {
			fail("%s", kvmWhy)
		}
		if qemuOK {
			switch {
			case !f.QEMU.AtLeast(10, 1):
				fail("QEMU %d.%d has no tdx-guest; TDX needs QEMU 10.1 or later", f.QEMU.Version[0], f.QEMU.Version[1])
			case !f.QEMU.Objects["tdx-guest"]:
				fail("QEMU %d.%d (%s) was built without tdx-guest ('-object help' does not list it)", f.QEMU.Version[0], f.QEMU.Version[1], f.QEMU.Path)
			}
		}
		checkFirmware(&v, firmware, "TDX boots TDVF (an OVMF.fd with TDX support) through -bios: pass --firmware, or put OVMF.fd in the images directory")
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

func checkFirmware(v *Verdict, firmware, howto string) {
	if firmware == "" {
		v.Reasons = append(v.Reasons, "no firmware: "+howto)
		return
	}
	st, err := os.Stat(firmware)
	switch {
	case err != nil:
		v.Reasons = append(v.Reasons, fmt.Sprintf("firmware %s: %v", firmware, unwrapPathError(err)))
	case st.IsDir():
		v.Reasons = append(v.Reasons, fmt.Sprintf("firmware %s: is a directory, want a file", firmware))
	}
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
