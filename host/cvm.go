package host

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Device is a character device QEMU opens (/dev/kvm, /dev/sev,
// /dev/vhost-vsock). Present is "the node exists"; ReadWrite is "this
// process could open it read-write just now", which is what QEMU needs.
type Device struct {
	Path      string `json:"path"` // as the system names it, e.g. /dev/kvm
	Present   bool   `json:"present"`
	ReadWrite bool   `json:"read_write"`
	Err       string `json:"error,omitempty"` // why it is absent or cannot be opened
}

// Device checks the device node at the system path p (e.g. "/dev/kvm") by
// opening it read-write and closing it again.
func (h *Host) Device(p string) Device {
	d := Device{Path: p}
	real := h.path(p)
	if _, err := os.Stat(real); err != nil {
		d.Err = "not present"
		return d
	}
	d.Present = true
	f, err := os.OpenFile(real, os.O_RDWR, 0)
	if err != nil {
		d.Err = fmt.Sprintf("cannot open read-write: %v", unwrapPathError(err))
		return d
	}
	f.Close()
	d.ReadWrite = true
	return d
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// KVM is whether hardware-accelerated guests can run. Some hosts (nested or
// paravirtualised, e.g. with the kvm_pvm module) expose a /dev/kvm that
// opens fine while the CPU has neither vmx nor svm; QEMU with -accel kvm
// then hangs or aborts (see docs: cvm-facts §8). So Usable needs both.
type KVM struct {
	Device  Device   `json:"device"`  // /dev/kvm
	Modules []string `json:"modules"` // loaded kvm modules: kvm, kvm_amd, kvm_intel, kvm_pvm
	Usable  bool     `json:"usable"`  // /dev/kvm opens read-write AND the CPU has vmx or svm
	Why     string   `json:"why,omitempty"`
}

// KVM reports /dev/kvm, the loaded KVM modules and whether KVM is usable.
func (h *Host) KVM() KVM { return h.kvm(h.CPU()) }

func (h *Host) kvm(cpu CPU) KVM {
	k := KVM{Device: h.Device("/dev/kvm"), Modules: []string{}}
	for _, m := range []string{"kvm", "kvm_amd", "kvm_intel", "kvm_pvm"} {
		if h.exists("/sys/module/" + m) {
			k.Modules = append(k.Modules, m)
		}
	}
	switch {
	case !k.Device.Present:
		k.Why = "/dev/kvm is not present (KVM modules not loaded, or virtualisation disabled in firmware)"
	case !k.Device.ReadWrite:
		k.Why = "/dev/kvm " + k.Device.Err + " (add your user to the kvm group)"
	case cpu.Err != "":
		k.Why = "/dev/kvm opens, but the CPU flags could not be read: " + cpu.Err
	case !cpu.HardwareVirt():
		k.Why = "/dev/kvm opens, but the CPU has neither vmx nor svm"
		if slices.Contains(k.Modules, "kvm_pvm") {
			k.Why += " (it is the paravirtualised kvm_pvm, which QEMU cannot use)"
		} else if cpu.Has(FlagHypervisor) {
			k.Why += " (this machine is a VM without nested virtualisation)"
		}
	default:
		k.Usable = true
	}
	return k
}

// SEV is what the host offers AMD SEV-SNP guests.
type SEV struct {
	CPUSEV    bool `json:"cpu_sev"`     // CPU flag sev
	CPUSEVES  bool `json:"cpu_sev_es"`  // CPU flag sev_es
	CPUSEVSNP bool `json:"cpu_sev_snp"` // CPU flag sev_snp
	// Raw values of /sys/module/kvm_amd/parameters/{sev,sev_es,sev_snp}
	// ("Y", "N", "1", "0"), "" when the file does not exist.
	ParamSEV    string `json:"param_sev,omitempty"`
	ParamSEVES  string `json:"param_sev_es,omitempty"`
	ParamSEVSNP string `json:"param_sev_snp,omitempty"`
	Device      Device `json:"device"` // /dev/sev, which QEMU opens for SEV guests
	// SNPHost is the CPU flag sev_snp AND kvm_amd's sev_snp parameter on:
	// the host kernel will run SNP guests (the rule Cocos uses).
	SNPHost bool `json:"snp_host"`
}

// SEV reads the host's SEV-SNP support.
func (h *Host) SEV() SEV { return h.sev(h.CPU()) }

func (h *Host) sev(cpu CPU) SEV {
	s := SEV{
		CPUSEV:      cpu.Has(FlagSEV),
		CPUSEVES:    cpu.Has(FlagSEVES),
		CPUSEVSNP:   cpu.Has(FlagSEVSNP),
		ParamSEV:    h.param("kvm_amd", "sev"),
		ParamSEVES:  h.param("kvm_amd", "sev_es"),
		ParamSEVSNP: h.param("kvm_amd", "sev_snp"),
		Device:      h.Device("/dev/sev"),
	}
	s.SNPHost = s.CPUSEVSNP && paramOn(s.ParamSEVSNP)
	return s
}

// TDX is what the host offers Intel TDX guests.
type TDX struct {
	CPUHostPlatform bool `json:"cpu_tdx_host_platform"` // CPU flag tdx_host_platform
	// Raw value of /sys/module/kvm_intel/parameters/tdx, "" when absent.
	ParamTDX string `json:"param_tdx,omitempty"`
	// SGX devices the quote generation service (QGS) needs for TD quotes.
	SGXEnclave   Device `json:"sgx_enclave"`   // /dev/sgx_enclave
	SGXProvision Device `json:"sgx_provision"` // /dev/sgx_provision
	// Host is the CPU flag tdx_host_platform AND kvm_intel's tdx
	// parameter on (the rule Cocos uses).
	Host bool `json:"host"`
}

// TDX reads the host's TDX support.
func (h *Host) TDX() TDX { return h.tdx(h.CPU()) }

func (h *Host) tdx(cpu CPU) TDX {
	t := TDX{
		CPUHostPlatform: cpu.Has(FlagTDXHostPlatform),
		ParamTDX:        h.param("kvm_intel", "tdx"),
		SGXEnclave:      h.Device("/dev/sgx_enclave"),
		SGXProvision:    h.Device("/dev/sgx_provision"),
	}
	t.Host = t.CPUHostPlatform && paramOn(t.ParamTDX)
	return t
}

// param reads /sys/module/<module>/parameters/<name>, trimmed; "" if absent.
func (h *Host) param(module, name string) string {
	return strings.TrimSpace(h.readString("/sys/module/" + module + "/parameters/" + name))
}

// paramOn interprets a boolean module parameter as the kernel prints it.
func paramOn(v string) bool { return v == "Y" || v == "y" || v == "1" }

// Problem is one thing a host lacks for a kind of confidential guest.
type Problem struct {
	// Reason says what is missing, as read from the machine, with a word
	// on why or how in parentheses: the sentence `cube-hal launch` refuses
	// a mode with, and `cube-hal doctor` lists.
	Reason string `json:"reason"`
	// Fix is the action that cures it, for doctor's fix line.
	Fix string `json:"fix"`
}

func (p Problem) String() string { return p.Reason }

// SNPProblems lists what keeps a host's CPU, kvm_amd and /dev/sev from
// running SEV-SNP guests, in that order; none means they are ready. KVM,
// QEMU and firmware are separate concerns (KVM.Why, QEMU, Firmware), so
// `cube-hal doctor` and `cube-hal launch` report each once, in the same
// words.
func SNPProblems(cpu CPU, kvm KVM, sev SEV) []Problem {
	var ps []Problem
	switch {
	case cpu.Err != "":
		ps = append(ps, Problem{"cannot tell whether the CPU offers sev_snp (" + cpu.Err + ")", "make /proc/cpuinfo readable"})
	case !sev.CPUSEVSNP:
		ps = append(ps, Problem{"the CPU does not report sev_snp in /proc/cpuinfo (needs an AMD EPYC 7003 or later with SEV-SNP enabled in the firmware setup, and a host kernel 6.11 or later)",
			"run SEV-SNP guests on an AMD EPYC 7003 (Milan) or later host with SEV-SNP enabled in the firmware setup"})
	}
	switch p := sev.ParamSEVSNP; {
	case paramOn(p):
	case p == "" && !slices.Contains(kvm.Modules, "kvm_amd"):
		ps = append(ps, Problem{"kvm_amd is not loaded (no /sys/module/kvm_amd)", "load it with SEV-SNP on: modprobe kvm_amd sev_snp=1"})
	case p == "":
		ps = append(ps, Problem{"kvm_amd has no sev_snp parameter (the host kernel is too old for SEV-SNP: 6.11 or later is needed)",
			"boot a host kernel 6.11 or later"})
	default:
		ps = append(ps, Problem{fmt.Sprintf("kvm_amd has SEV-SNP off (/sys/module/kvm_amd/parameters/sev_snp is %q; reload it with sev_snp=1)", p),
			"reload kvm_amd with sev_snp=1"})
	}
	switch d := sev.Device; {
	case !d.Present:
		ps = append(ps, Problem{"/dev/sev is missing (the ccp driver found no AMD secure processor)",
			"enable SEV-SNP in the firmware setup and load the ccp module"})
	case !d.ReadWrite:
		ps = append(ps, Problem{"/dev/sev " + d.Err + " (QEMU needs it: run as root or fix its group)",
			"run as root, or give your user read-write access to /dev/sev"})
	}
	return ps
}

// TDXProblems lists what keeps a host's CPU and kvm_intel from running TDX
// guests; none means they are ready (see SNPProblems).
func TDXProblems(cpu CPU, kvm KVM, tdx TDX) []Problem {
	var ps []Problem
	switch {
	case cpu.Err != "":
		ps = append(ps, Problem{"cannot tell whether the CPU offers tdx_host_platform (" + cpu.Err + ")", "make /proc/cpuinfo readable"})
	case !tdx.CPUHostPlatform:
		ps = append(ps, Problem{"the CPU does not report tdx_host_platform in /proc/cpuinfo (needs an Intel Xeon with TDX enabled in the firmware setup, and a host kernel with TDX host support)",
			"run TDX guests on an Intel Xeon (4th generation or later) host with TDX enabled in the firmware setup"})
	}
	switch p := tdx.ParamTDX; {
	case paramOn(p):
	case p == "" && !slices.Contains(kvm.Modules, "kvm_intel"):
		ps = append(ps, Problem{"kvm_intel is not loaded (no /sys/module/kvm_intel)", "load it with TDX on: modprobe kvm_intel tdx=1"})
	case p == "":
		ps = append(ps, Problem{"kvm_intel has no tdx parameter (the host kernel has no TDX host support)", "boot a host kernel with TDX host support"})
	default:
		ps = append(ps, Problem{fmt.Sprintf("kvm_intel has TDX off (/sys/module/kvm_intel/parameters/tdx is %q; reload it with tdx=1)", p),
			"reload kvm_intel with tdx=1"})
	}
	return ps
}
