package measure

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// VMMType is the hypervisor that launches the guest. VMMs differ in the
// initial register state they give vCPUs and in how they load OVMF's
// metadata pages, so each yields a different measurement for the same files.
type VMMType int

const (
	// VMMQEMU is QEMU/KVM (the zero value).
	VMMQEMU VMMType = iota
	// VMMEC2 is Amazon EC2: CPUID pages are loaded last, RDX holds 0x600,
	// no FPU defaults.
	VMMEC2
	// VMMGCE is Google Compute Engine: SNP_SEC_MEM pages are unmeasured, a
	// GCE-specific PAT, RDX holds 0x600.
	VMMGCE
)

// String returns the name as the sev-snp-measure CLI spells it.
func (v VMMType) String() string {
	switch v {
	case VMMQEMU:
		return "QEMU"
	case VMMEC2:
		return "ec2"
	case VMMGCE:
		return "gce"
	}
	return fmt.Sprintf("VMMType(%d)", int(v))
}

// ErrUnknownVMMType reports a VMM name other than QEMU, ec2 or gce.
var ErrUnknownVMMType = errors.New("unknown VMM type")

// ParseVMMType accepts "qemu", "ec2" and "gce" in any case ("QEMU" is how
// sev-snp-measure spells its default).
func ParseVMMType(s string) (VMMType, error) {
	for _, v := range []VMMType{VMMQEMU, VMMEC2, VMMGCE} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w %q (known: QEMU, ec2, gce)", ErrUnknownVMMType, s)
}

// Guest (SEV) features: the SEV_FEATURES field of the VMSA, which the
// hypervisor chooses and the measurement covers.
const (
	FeatureSNPActive uint64 = 1 << 0 // always set for an SNP guest
	FeatureDebugSwap uint64 = 1 << 5 // DR7/DR0-3 swapped by hardware
	// DefaultGuestFeatures is what upstream QEMU (9.1 and later, which
	// initialises guests with KVM_SEV_INIT2 and asks for no optional
	// features) gives an SNP guest: SNPActive only. It is also
	// sev-snp-measure's default. See the README for when 0x21 applies.
	DefaultGuestFeatures = FeatureSNPActive
)

// resetEIP is where the bootstrap processor starts: the x86 reset vector.
const resetEIP = 0xFFFF_FFF0

// Offsets in the SEV-ES/SNP save area (AMD64 APM vol. 2, table B-4 "VMSA
// Layout, State Save Area for SEV-ES"; Linux struct sev_es_save_area).
const (
	vmsaES     = 0x000 // segment registers: u16 selector, u16 attrib, u32 limit, u64 base
	vmsaCS     = 0x010
	vmsaSS     = 0x020
	vmsaDS     = 0x030
	vmsaFS     = 0x040
	vmsaGS     = 0x050
	vmsaGDTR   = 0x060
	vmsaLDTR   = 0x070
	vmsaIDTR   = 0x080
	vmsaTR     = 0x090
	vmsaEFER   = 0x0D0
	vmsaCR4    = 0x148
	vmsaCR0    = 0x158
	vmsaDR7    = 0x160
	vmsaDR6    = 0x168
	vmsaRFLAGS = 0x170
	vmsaRIP    = 0x178
	vmsaGPAT   = 0x268
	vmsaRDX    = 0x310
	vmsaSEVF   = 0x3B0 // SEV_FEATURES
	vmsaXCR0   = 0x3E8
	vmsaMXCSR  = 0x408 // u32
	vmsaX87FCW = 0x410 // u16
)

// vmsaParams is the per-VMM part of the reset state.
type vmsaParams struct {
	csAttr, ssAttr, trAttr uint16
	rdx                    uint64
	gpat                   uint64
	mxcsr                  uint32
	fcw                    uint16
}

func vmmParams(vmm VMMType, eip uint32, sig uint32) (vmsaParams, error) {
	p := vmsaParams{
		csAttr: 0x9b, ssAttr: 0x93, trAttr: 0x8b,
		gpat: 0x0007_0406_0007_0406, // the architectural PAT reset value
	}
	switch vmm {
	case VMMQEMU:
		// QEMU resets RDX to the CPUID signature and sets the x87/SSE
		// control words to their FINIT/reset values.
		p.rdx, p.mxcsr, p.fcw = uint64(sig), 0x1f80, 0x37f
	case VMMEC2:
		if eip == resetEIP {
			p.csAttr = 0x9a
		}
		p.ssAttr, p.trAttr, p.rdx = 0x92, 0x83, 0x600
	case VMMGCE:
		p.gpat, p.rdx = 0x0007_0106, 0x600
	default:
		return p, fmt.Errorf("%w %v", ErrUnknownVMMType, vmm)
	}
	return p, nil
}

// buildVMSA returns the save-area page a vCPU starting at eip is measured
// with: real mode, CS based so that CS:IP reaches eip, everything else at
// its architectural reset value (plus the bits KVM sets: EFER.SVME, CR4.MCE).
func buildVMSA(vmm VMMType, eip uint32, sig uint32, features uint64) ([]byte, error) {
	p, err := vmmParams(vmm, eip, sig)
	if err != nil {
		return nil, err
	}
	v := make([]byte, PageSize)
	le := binary.LittleEndian
	seg := func(off int, sel, attr uint16, limit uint32, base uint64) {
		le.PutUint16(v[off:], sel)
		le.PutUint16(v[off+2:], attr)
		le.PutUint32(v[off+4:], limit)
		le.PutUint64(v[off+8:], base)
	}
	seg(vmsaES, 0, 0x93, 0xffff, 0)
	seg(vmsaCS, 0xf000, p.csAttr, 0xffff, uint64(eip&0xffff0000))
	seg(vmsaSS, 0, p.ssAttr, 0xffff, 0)
	seg(vmsaDS, 0, 0x93, 0xffff, 0)
	seg(vmsaFS, 0, 0x93, 0xffff, 0)
	seg(vmsaGS, 0, 0x93, 0xffff, 0)
	seg(vmsaGDTR, 0, 0, 0xffff, 0)
	seg(vmsaLDTR, 0, 0x82, 0xffff, 0)
	seg(vmsaIDTR, 0, 0, 0xffff, 0)
	seg(vmsaTR, 0, p.trAttr, 0xffff, 0)
	le.PutUint64(v[vmsaEFER:], 0x1000) // EFER.SVME
	le.PutUint64(v[vmsaCR4:], 0x40)    // CR4.MCE
	le.PutUint64(v[vmsaCR0:], 0x10)    // CR0.ET
	le.PutUint64(v[vmsaDR7:], 0x400)
	le.PutUint64(v[vmsaDR6:], 0xffff0ff0)
	le.PutUint64(v[vmsaRFLAGS:], 0x2)
	le.PutUint64(v[vmsaRIP:], uint64(eip&0xffff))
	le.PutUint64(v[vmsaGPAT:], p.gpat)
	le.PutUint64(v[vmsaRDX:], p.rdx)
	le.PutUint64(v[vmsaSEVF:], features)
	le.PutUint64(v[vmsaXCR0:], 0x1)
	le.PutUint32(v[vmsaMXCSR:], p.mxcsr)
	le.PutUint16(v[vmsaX87FCW:], p.fcw)
	return v, nil
}
