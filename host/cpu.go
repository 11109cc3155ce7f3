package host

import (
	"bufio"
	"slices"
	"strconv"
	"strings"
)

// CPU is what /proc/cpuinfo says about the first processor (the kernel
// reports the same vendor and flags for every processor of a machine).
type CPU struct {
	Vendor     string   `json:"vendor,omitempty"` // vendor_id: AuthenticAMD, GenuineIntel
	ModelName  string   `json:"model_name,omitempty"`
	Family     int      `json:"family,omitempty"`
	Model      int      `json:"model,omitempty"`
	Stepping   int      `json:"stepping,omitempty"`
	Flags      []string `json:"flags,omitempty"` // sorted
	Processors int      `json:"processors"`      // "processor" entries
	Err        string   `json:"error,omitempty"` // why cpuinfo could not be read
}

// CPU flags cube-hal cares about, as the kernel spells them in
// /proc/cpuinfo.
const (
	FlagVMX             = "vmx"               // Intel VT-x: hardware virtualisation
	FlagSVM             = "svm"               // AMD-V: hardware virtualisation
	FlagHypervisor      = "hypervisor"        // this machine is itself a VM
	FlagSEV             = "sev"               // AMD SEV (memory encryption only)
	FlagSEVES           = "sev_es"            // AMD SEV-ES (encrypted register state)
	FlagSEVSNP          = "sev_snp"           // AMD SEV-SNP host support
	FlagTDXHostPlatform = "tdx_host_platform" // Intel TDX host support
)

// Has reports whether the CPU lists flag.
func (c CPU) Has(flag string) bool {
	_, found := slices.BinarySearch(c.Flags, flag)
	return found
}

// HardwareVirt reports whether the CPU offers VT-x or AMD-V to this kernel.
func (c CPU) HardwareVirt() bool { return c.Has(FlagVMX) || c.Has(FlagSVM) }

// CPU reads /proc/cpuinfo.
func (h *Host) CPU() CPU {
	s := h.readString("/proc/cpuinfo")
	if s == "" {
		return CPU{Err: "cannot read " + h.path("/proc/cpuinfo")}
	}
	return ParseCPUInfo(s)
}

// ParseCPUInfo parses the text of /proc/cpuinfo. Vendor, model and flags
// come from the first processor; Processors counts them all.
func ParseCPUInfo(s string) CPU {
	var c CPU
	first := true
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		val = strings.TrimSpace(val)
		if key == "processor" {
			c.Processors++
			if c.Processors > 1 {
				first = false
			}
			continue
		}
		if !first {
			continue
		}
		switch key {
		case "vendor_id":
			c.Vendor = val
		case "model name":
			c.ModelName = val
		case "cpu family":
			c.Family, _ = strconv.Atoi(val)
		case "model":
			c.Model, _ = strconv.Atoi(val)
		case "stepping":
			c.Stepping, _ = strconv.Atoi(val)
		case "flags":
			c.Flags = strings.Fields(val)
			slices.Sort(c.Flags)
			c.Flags = slices.Compact(c.Flags)
		}
	}
	return c
}
