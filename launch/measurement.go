package launch

import (
	"errors"
	"fmt"
	"os"

	"github.com/ultravioletrs/cube-hal/launch/measure"
)

// SNPMeasureOptions returns the launch/measure inputs of the SEV-SNP VM c
// describes (after WithDefaults): exactly the firmware, kernel, initrd,
// command line, vCPU count and -cpu model its QEMU command line carries, and
// the guest features upstream QEMU gives it. notes say what the
// measurement does not cover (kernel-hashes off). An error means the value
// cannot be known, which does not make the VM unlaunchable.
func (c Config) SNPMeasureOptions() (o measure.Options, notes []string, err error) {
	c = c.WithDefaults()
	if c.Mode != ModeSNP {
		return o, nil, fmt.Errorf("mode %s has no SEV-SNP measurement", c.Mode)
	}
	o = measure.Options{
		OVMF:     c.Firmware,
		VCPUs:    c.CPUs,
		VCPUType: c.SNP.CPUModel,
		// QEMU >= 9.1 starts SNP guests through KVM_SEV_INIT2 asking for no
		// optional SEV feature: SNPActive only (see the README).
		GuestFeatures: measure.DefaultGuestFeatures,
	}
	if c.Firmware == "" {
		return o, nil, errors.New("no firmware: an SEV-SNP launch needs an OVMF image (-bios)")
	}
	if !c.SNP.KernelHashes {
		return o, []string{"kernel-hashes is off: the measurement covers the firmware and vCPUs only, not the kernel, initrd or command line"}, nil
	}
	bz, err := isBzImage(c.Kernel)
	if err != nil {
		return o, nil, fmt.Errorf("kernel: %w", err)
	}
	if !bz {
		return o, nil, fmt.Errorf("kernel %s is not a bzImage: QEMU measures only bzImage kernels with kernel-hashes=on (an ELF/PVH vmlinux is loaded unmeasured)", c.Kernel)
	}
	o.Kernel, o.Initrd, o.Append = c.Kernel, c.Initrd, c.Append
	return o, nil, nil
}

// ExpectedSNPMeasurement is the SEV-SNP launch digest (48 bytes) the
// attestation reports of the VM c starts must carry; see SNPMeasureOptions.
func (c Config) ExpectedSNPMeasurement() (digest []byte, notes []string, err error) {
	o, notes, err := c.SNPMeasureOptions()
	if err != nil {
		return nil, nil, err
	}
	digest, err = measure.SNPDigest(o)
	if err != nil {
		return nil, nil, err
	}
	return digest, notes, nil
}

// isBzImage reports whether path carries the Linux boot protocol header
// ("HdrS" at 0x202): QEMU hashes such kernels into the SEV hashes table,
// while an ELF kernel goes through its PVH entry without being hashed.
func isBzImage(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0x202); err != nil {
		return false, nil // too short to be a bzImage
	}
	return string(magic[:]) == "HdrS", nil
}
