package measure

import (
	"errors"
	"fmt"
)

// ErrNoKernelHashes reports a direct boot (a kernel given) with a firmware
// that has no SNP_KERNEL_HASHES section: QEMU could not measure the kernel,
// so no launch digest covers it. The wording is sev-snp-measure's.
var ErrNoKernelHashes = errors.New("Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section")

// Options describe one SEV-SNP launch exactly as QEMU performs it. Every
// field changes the measurement, so each must match the VM's command line.
type Options struct {
	// OVMF is the firmware file given to -bios. It is always read: its
	// SEV metadata decides which pages are measured, even when OVMFHash is set.
	OVMF string
	// OVMFHash, if set, is a precomputed [OVMFHash] of the firmware (48
	// bytes) used instead of hashing OVMF's pages; OVMF may then be an older
	// build with the same metadata.
	OVMFHash []byte

	// Kernel, Initrd and Append are -kernel, -initrd and -append of a direct
	// boot with kernel-hashes=on. Kernel empty means no direct boot: the
	// hashes page is measured as a zero page. Initrd or Append without
	// Kernel is an error. With kernel-hashes=off leave all three empty:
	// QEMU then measures nothing of the direct boot.
	Kernel, Initrd, Append string

	// VCPUs is the number of vCPUs (-smp); each adds a VMSA page.
	VCPUs int
	// VCPUType is the -cpu value (e.g. "EPYC-v4"), resolved with
	// [VCPUSignature]. When empty, VCPUSig is used as is.
	VCPUType string
	// VCPUSig is the CPUID signature (see [CPUSig]) when VCPUType is empty.
	// EC2 and GCE ignore it.
	VCPUSig uint32
	// GuestFeatures is the VMSA's SEV_FEATURES; 0 means
	// [DefaultGuestFeatures]. It must include [FeatureSNPActive].
	GuestFeatures uint64
	// VMM is the hypervisor flavour; the zero value is QEMU.
	VMM VMMType

	// OnVMSA, if set, is called with each measured VMSA page in order
	// (for debugging a mismatch, like sev-snp-measure --dump-vmsa).
	OnVMSA func(vcpu int, page []byte)
}

// SNPDigest returns the SEV-SNP launch digest (48 bytes) for o: the value
// the guest's attestation reports carry as MEASUREMENT.
func SNPDigest(o Options) ([]byte, error) {
	if o.VCPUs < 1 {
		return nil, fmt.Errorf("vCPU count %d: an SNP guest has at least one vCPU", o.VCPUs)
	}
	features := o.GuestFeatures
	if features == 0 {
		features = DefaultGuestFeatures
	}
	if features&FeatureSNPActive == 0 {
		return nil, fmt.Errorf("guest features 0x%x lack SNPActive (bit 0), which every SNP guest has", features)
	}
	sig := o.VCPUSig
	if o.VCPUType != "" {
		s, err := VCPUSignature(o.VCPUType)
		if err != nil {
			return nil, err
		}
		sig = s
	}
	if o.OVMFHash != nil && len(o.OVMFHash) != DigestSize {
		return nil, fmt.Errorf("precomputed OVMF hash is %d bytes, want %d (SHA-384)", len(o.OVMFHash), DigestSize)
	}
	if o.Kernel == "" && (o.Initrd != "" || o.Append != "") {
		return nil, errors.New("an initrd or command line is only measured with a kernel (kernel-hashes=on direct boot)")
	}

	fw, err := ReadFirmware(o.OVMF)
	if err != nil {
		return nil, err
	}
	if !fw.HasSNPMetadata() {
		return nil, fmt.Errorf("OVMF %s: %w", o.OVMF, ErrNoSNPMetadata)
	}
	apEIP, err := fw.ResetEIP()
	if err != nil {
		return nil, fmt.Errorf("OVMF %s: %w", o.OVMF, err)
	}

	var hashes *KernelHashes
	if o.Kernel != "" {
		if !fw.HasSection(SectionSNPKernelHashes) {
			return nil, ErrNoKernelHashes
		}
		if hashes, err = HashKernel(o.Kernel, o.Initrd, o.Append); err != nil {
			return nil, err
		}
	}

	var c *chain
	if o.OVMFHash != nil {
		c = newChain(o.OVMFHash)
	} else {
		c = newChain(nil)
		if err := c.normalPages(fw.GPA(), fw.Data()); err != nil {
			return nil, fmt.Errorf("OVMF %s: %w", o.OVMF, err)
		}
	}
	if err := measureMetadata(c, fw, hashes, o.VMM); err != nil {
		return nil, fmt.Errorf("OVMF %s: %w", o.OVMF, err)
	}

	bsp, err := buildVMSA(o.VMM, resetEIP, sig, features)
	if err != nil {
		return nil, err
	}
	ap, err := buildVMSA(o.VMM, apEIP, sig, features)
	if err != nil {
		return nil, err
	}
	for i := range o.VCPUs {
		page := ap
		if i == 0 {
			page = bsp
		}
		if o.OnVMSA != nil {
			o.OnVMSA(i, page)
		}
		c.vmsa(page)
	}
	return c.value(), nil
}

// measureMetadata extends the digest with the pages OVMF's SEV metadata
// lists, the way the VMM pre-validates them: in table order, except that
// EC2 loads the CPUID pages after all the others.
func measureMetadata(c *chain, fw *Firmware, hashes *KernelHashes, vmm VMMType) error {
	for i, s := range fw.Sections() {
		if s.GPA%PageSize != 0 || s.Size%PageSize != 0 || s.Size == 0 {
			return fmt.Errorf("metadata section %d (%v) at 0x%x, 0x%x bytes, is not whole pages", i, s.Type, s.GPA, s.Size)
		}
		if uint64(s.GPA)+uint64(s.Size) > 1<<32 {
			return fmt.Errorf("metadata section %d (%v) at 0x%x, 0x%x bytes, ends above 4 GiB", i, s.Type, s.GPA, s.Size)
		}
		gpa, size := uint64(s.GPA), uint64(s.Size)
		switch s.Type {
		case SectionSNPSecMem:
			if vmm == VMMGCE {
				c.emptyPages(pageUnmeasured, gpa, size)
			} else {
				c.emptyPages(pageZero, gpa, size)
			}
		case SectionSNPSecrets:
			c.emptyPages(pageSecrets, gpa, size)
		case SectionCPUID:
			if vmm != VMMEC2 {
				c.emptyPages(pageCPUID, gpa, size)
			}
		case SectionSVSMCAA:
			c.emptyPages(pageZero, gpa, size)
		case SectionSNPKernelHashes:
			if hashes == nil {
				c.emptyPages(pageZero, gpa, size)
				continue
			}
			if err := measureHashesSection(c, fw, hashes, s); err != nil {
				return err
			}
		default:
			return fmt.Errorf("metadata section %d has unknown type 0x%x", i, uint32(s.Type))
		}
	}
	if vmm == VMMEC2 {
		for _, s := range fw.Sections() {
			if s.Type == SectionCPUID {
				c.emptyPages(pageCPUID, uint64(s.GPA), uint64(s.Size))
			}
		}
	}
	return nil
}

// measureHashesSection measures the SNP_KERNEL_HASHES section as QEMU fills
// it: normal pages of zeros, with the hashes table at the table address's
// offset within the section's first page. Only the pages the table touches
// are built; the rest hash as zero pages.
func measureHashesSection(c *chain, fw *Firmware, hashes *KernelHashes, s Section) error {
	tableGPA, err := fw.HashesTableGPA()
	if err != nil {
		return err
	}
	off := int(tableGPA % PageSize)
	if uint64(off+hashTablePaddedLen) > uint64(s.Size) {
		return fmt.Errorf("hashes table at 0x%x does not fit the %d-byte SNP_KERNEL_HASHES section at 0x%x", tableGPA, s.Size, s.GPA)
	}
	head := make([]byte, (off+hashTablePaddedLen+PageSize-1)/PageSize*PageSize)
	copy(head[off:], hashes.Table())
	if err := c.normalPages(uint64(s.GPA), head); err != nil {
		return err
	}
	var zero []byte
	for at := uint64(len(head)); at < uint64(s.Size); at += PageSize {
		if zero == nil {
			zero = append([]byte(nil), c.pageHash(make([]byte, PageSize))...)
		}
		c.update(pageNormal, uint64(s.GPA)+at, zero)
	}
	return nil
}

// OVMFHash returns the digest after the firmware's pages alone: the first
// step of [SNPDigest], which can be computed once for a firmware build and
// handed to SNPDigest as Options.OVMFHash. Like sev-snp-measure's
// snp:ovmf-hash mode it needs no SEV metadata, only a page-sized image.
func OVMFHash(path string) ([]byte, error) {
	fw, err := ReadFirmware(path)
	if err != nil {
		return nil, err
	}
	c := newChain(nil)
	if err := c.normalPages(fw.GPA(), fw.Data()); err != nil {
		return nil, fmt.Errorf("OVMF %s: %w", path, err)
	}
	return c.value(), nil
}
