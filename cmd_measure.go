package main

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/launch/measure"
)

// measureFlags mirror sev-snp-measure's command line, so scripts written for
// it run unchanged (flag names, "--flag value" and "--flag=value", defaults).
type measureFlags struct {
	mode          string
	vcpus         int
	vcpuType      string
	vcpuSig       string
	vcpuFamily    int
	vcpuModel     int
	vcpuStepping  int
	vmmType       string
	ovmf          string
	kernel        string
	initrd        string
	appendLine    string
	guestFeatures string
	outputFormat  string
	snpOVMFHash   string
	verbose       bool
	dumpVMSA      bool
}

func newMeasureCmd(g *globalFlags) *cobra.Command {
	f := &measureFlags{}
	cmd := &cobra.Command{
		Use:   "measure",
		Short: "Compute the expected SEV-SNP launch digest",
		Long: `Compute the SEV-SNP launch measurement (the MEASUREMENT field of the guest's
attestation reports) from the files and settings a VM is started with: the OVMF
image (-bios), the kernel, initrd and command line of a kernel-hashes=on direct
boot, the vCPU count and model (-smp, -cpu), the guest features and the VMM.

Flag-compatible with sev-snp-measure (modes snp and snp:ovmf-hash).

--guest-features is the VMSA's SEV_FEATURES, chosen by the hypervisor, not the
guest: 0x1 (SNPActive, the default) for upstream QEMU 9.1 or later, which
starts SNP guests through KVM_SEV_INIT2 and asks for no optional features;
0x21 (SNPActive + DebugSwap) for QEMU 11.1 or later with debug-swap=on, and for
the older AMD snp-latest QEMU on host kernels 6.6 to 6.10, where KVM turned
DebugSwap on by itself.`,
		Example: `  cube-hal measure --mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf OVMF.fd \
      --kernel bzImage --initrd rootfs.cpio.gz --append "console=ttyS0"
  cube-hal measure --mode snp:ovmf-hash --ovmf OVMF.fd
  cube-hal measure --mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf OVMF.fd --snp-ovmf-hash <hex>`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMeasure(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mode, "mode", "", "guest mode: snp, or snp:ovmf-hash to print the firmware's hash alone (required)")
	fl.IntVar(&f.vcpus, "vcpus", 0, "number of guest vCPUs, as -smp (required in snp mode)")
	fl.StringVar(&f.vcpuType, "vcpu-type", "", "guest vCPU model, as -cpu ("+strings.Join(measure.VCPUTypes(), ", ")+")")
	fl.StringVar(&f.vcpuSig, "vcpu-sig", "", "guest vCPU signature value (CPUID 1 EAX), instead of --vcpu-type")
	fl.IntVar(&f.vcpuFamily, "vcpu-family", 0, "guest vCPU family, with --vcpu-model and --vcpu-stepping, instead of --vcpu-type")
	fl.IntVar(&f.vcpuModel, "vcpu-model", 0, "guest vCPU model number")
	fl.IntVar(&f.vcpuStepping, "vcpu-stepping", 0, "guest vCPU stepping")
	fl.StringVar(&f.vmmType, "vmm-type", "QEMU", "type of guest VMM (QEMU, ec2, gce; any case)")
	fl.StringVar(&f.ovmf, "ovmf", "", "OVMF firmware file the guest boots (-bios) (required)")
	fl.StringVar(&f.kernel, "kernel", "", "kernel file of a kernel-hashes=on direct boot (-kernel)")
	fl.StringVar(&f.initrd, "initrd", "", "initrd file (-initrd; use with --kernel)")
	fl.StringVar(&f.appendLine, "append", "", "kernel command line (-append; use with --kernel)")
	fl.StringVar(&f.guestFeatures, "guest-features", "0x1", "guest SEV features (VMSA SEV_FEATURES), hex or decimal; see above")
	fl.StringVar(&f.outputFormat, "output-format", "hex", "measurement output format: hex or base64")
	fl.StringVar(&f.snpOVMFHash, "snp-ovmf-hash", "", "precalculated hash of the OVMF binary (hex, from --mode snp:ovmf-hash)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "say what was calculated")
	fl.BoolVar(&f.dumpVMSA, "dump-vmsa", false, "write the measured VMSAs to vmsa<N>.bin in the current directory")
	return cmd
}

func runMeasure(cmd *cobra.Command, f *measureFlags) error {
	changed := cmd.Flags().Changed
	if f.mode == "" {
		return usageErrorf("--mode is required (snp or snp:ovmf-hash)").withHint("run 'cube-hal measure --help' for an example")
	}
	if f.ovmf == "" {
		return usageErrorf("--ovmf is required: the OVMF firmware file the guest boots").withHint("run 'cube-hal measure --help' for an example")
	}
	switch f.mode {
	case "snp":
	case "snp:ovmf-hash":
		h, err := measure.OVMFHash(f.ovmf)
		if err != nil {
			return measureFailure(err, f)
		}
		fmt.Fprintln(cmd.OutOrStdout(), hex.EncodeToString(h))
		return nil
	case "sev", "seves", "snp:svsm":
		return usageErrorf("--mode %s is not supported: cube-hal measures SEV-SNP guests (snp, snp:ovmf-hash)", f.mode).
			withHint("use sev-snp-measure for SEV, SEV-ES and SVSM guests")
	default:
		return usageErrorf("--mode %q is not a guest mode (snp, snp:ovmf-hash)", f.mode).withHint("run 'cube-hal measure --help'")
	}

	o, err := f.options(changed)
	if err != nil {
		return err
	}
	var dumpErr error
	if f.dumpVMSA {
		o.OnVMSA = func(i int, page []byte) {
			if err := os.WriteFile(fmt.Sprintf("vmsa%d.bin", i), page, 0o644); err != nil && dumpErr == nil {
				dumpErr = err
			}
		}
	}
	d, err := measure.SNPDigest(o)
	if err != nil {
		return measureFailure(err, f)
	}
	if dumpErr != nil {
		return failf("--dump-vmsa: %s", dumpErr).withHint("run from a writable directory")
	}
	out := hex.EncodeToString(d)
	if f.outputFormat == "base64" {
		out = base64.StdEncoding.EncodeToString(d)
	}
	if f.verbose {
		fmt.Fprintf(cmd.OutOrStdout(), "Calculated SEV_SNP guest measurement: %s\n", out)
	} else {
		fmt.Fprintln(cmd.OutOrStdout(), out)
	}
	return nil
}

// options checks the flags of snp mode (each mistake is a usage error naming
// its flag) and turns them into measure.Options.
func (f *measureFlags) options(changed func(string) bool) (measure.Options, error) {
	o := measure.Options{OVMF: f.ovmf, Kernel: f.kernel, Initrd: f.initrd, Append: f.appendLine, VCPUs: f.vcpus}
	if f.outputFormat != "hex" && f.outputFormat != "base64" {
		return o, usageErrorf("--output-format %q: want hex or base64", f.outputFormat)
	}
	if f.initrd != "" && f.kernel == "" {
		return o, usageErrorf("--kernel required when using --initrd").withHint("an initrd is only measured in a kernel-hashes=on direct boot")
	}
	if f.appendLine != "" && f.kernel == "" {
		return o, usageErrorf("--kernel required when using --append").withHint("a command line is only measured in a kernel-hashes=on direct boot")
	}
	if !changed("vcpus") {
		return o, usageErrorf("missing --vcpus N in guest mode 'snp'").withHint("give the -smp count the VM is started with")
	}
	if f.vcpus < 1 {
		return o, usageErrorf("--vcpus %d: an SNP guest has at least one vCPU", f.vcpus)
	}
	vmm, err := measure.ParseVMMType(f.vmmType)
	if err != nil {
		return o, usageErrorf("--vmm-type: %s", err)
	}
	o.VMM = vmm

	// The signature: --vcpu-family wins over --vcpu-sig over --vcpu-type,
	// as in sev-snp-measure.
	switch {
	case changed("vcpu-family"):
		if !changed("vcpu-model") || !changed("vcpu-stepping") {
			return o, usageErrorf("--vcpu-family needs --vcpu-model and --vcpu-stepping")
		}
		if f.vcpuFamily < 0 || f.vcpuModel < 0 || f.vcpuStepping < 0 {
			return o, usageErrorf("--vcpu-family, --vcpu-model and --vcpu-stepping must not be negative")
		}
		o.VCPUSig = measure.CPUSig(uint32(f.vcpuFamily), uint32(f.vcpuModel), uint32(f.vcpuStepping))
	case changed("vcpu-sig"):
		sig, err := strconv.ParseUint(f.vcpuSig, 0, 32)
		if err != nil {
			return o, usageErrorf("--vcpu-sig %q: not a 32-bit number (e.g. 0x800f12)", f.vcpuSig)
		}
		o.VCPUSig = uint32(sig)
	case f.vcpuType != "":
		sig, err := measure.VCPUSignature(f.vcpuType)
		if err != nil {
			return o, usageErrorf("--vcpu-type: %s", err)
		}
		o.VCPUSig = sig
	case vmm == measure.VMMQEMU:
		return o, usageErrorf("missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode 'snp'").
			withHint("give the -cpu model the VM is started with, e.g. --vcpu-type EPYC-v4")
	}

	feat, err := strconv.ParseUint(f.guestFeatures, 0, 64)
	if err != nil {
		return o, usageErrorf("--guest-features %q: not a 64-bit number (e.g. 0x1)", f.guestFeatures)
	}
	if feat&measure.FeatureSNPActive == 0 {
		return o, usageErrorf("--guest-features 0x%x lacks SNPActive (bit 0), which every SNP guest has", feat).
			withHint("use 0x1 for upstream QEMU, 0x21 with debug-swap=on")
	}
	o.GuestFeatures = feat

	if f.snpOVMFHash != "" {
		h, err := hex.DecodeString(f.snpOVMFHash)
		if err != nil || len(h) != measure.DigestSize {
			return o, usageErrorf("--snp-ovmf-hash: want %d hex digits (a SHA-384), got %q", 2*measure.DigestSize, f.snpOVMFHash).
				withHint("compute it with 'cube-hal measure --mode snp:ovmf-hash --ovmf OVMF.fd'")
		}
		o.OVMFHash = h
	}
	return o, nil
}

// measureFailure turns a measurement error into a CLI error with a hint on
// what to change.
func measureFailure(err error, f *measureFlags) error {
	switch {
	case errors.Is(err, measure.ErrNoKernelHashes):
		return failf("%s", err).withHint("%s cannot measure a direct boot: use an OVMF built from OvmfPkg/AmdSev/AmdSevX64.dsc, or leave out --kernel, --initrd and --append", f.ovmf)
	case errors.Is(err, measure.ErrNoSNPMetadata):
		return failf("%s", err).withHint("SEV-SNP guests need an OVMF with SEV metadata, e.g. one built from OvmfPkg/AmdSev/AmdSevX64.dsc (not a split OVMF_CODE)")
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission):
		return failf("%s", err).withHint("check the paths given to --ovmf, --kernel and --initrd")
	}
	return failf("%s", err)
}

// The expected measurement of the VMs cube-hal itself starts: 'cube-hal
// launch --mode snp' prints it, and 'cube-hal attest' compares reports with
// it (measurementFromImages). Both derive it from a launch.Config
// (Config.SNPMeasureOptions), so the value is computed from exactly the
// files, vCPUs, -cpu model and command line QEMU is given.

// expectedSNPMeasurement is the hex launch digest of the SEV-SNP VM cfg
// starts, or "" for other modes. It never stops a launch: when the value
// cannot be known it says why on errOut.
func expectedSNPMeasurement(errOut io.Writer, cfg launch.Config) string {
	if cfg.Mode != launch.ModeSNP {
		return ""
	}
	d, notes, err := cfg.ExpectedSNPMeasurement()
	if err == nil {
		for _, n := range notes {
			fmt.Fprintf(errOut, "warning: %s\n", n)
		}
		return hex.EncodeToString(d)
	}
	fmt.Fprintf(errOut, "warning: the expected SEV-SNP measurement is unknown: %s\n", err)
	return ""
}

// printSNPMeasurement adds the expected measurement to launch's output.
func printSNPMeasurement(w io.Writer, digest string) {
	if digest != "" {
		fmt.Fprintf(w, "  measurement: %s (SEV-SNP launch digest its attestation reports must carry)\n", digest)
	}
}

// measurementFromImages computes the SEV-SNP launch digest of the images in
// dir (bzImage, rootfs.cpio.gz, OVMF.fd, found as 'cube-hal launch --images'
// finds them) launched with cfg's settings (vCPUs, -cpu model, command line,
// kernel-hashes, firmware; zero values take launch's defaults). It is what
// 'cube-hal attest --measurement-from-images DIR' checks a report against.
func measurementFromImages(dir string, cfg launch.Config) ([]byte, error) {
	cfg, err := imagesConfig(dir, cfg)
	if err != nil {
		return nil, err
	}
	d, _, err := cfg.ExpectedSNPMeasurement()
	return d, err
}

// imagesConfig fills cfg with the boot files found in dir.
func imagesConfig(dir string, cfg launch.Config) (launch.Config, error) {
	im, err := launch.FindImages(dir)
	if err != nil {
		return cfg, err
	}
	cfg.Mode = launch.ModeSNP
	cfg.Kernel, cfg.Initrd = im.Kernel, im.Initrd
	if cfg.Firmware == "" {
		cfg.Firmware = im.Firmware
	}
	if cfg.Firmware == "" {
		return cfg, fmt.Errorf("images directory %s: no firmware (looked for %s)", dir, strings.Join(launch.FirmwareNames, ", "))
	}
	return cfg, nil
}

// imagesMeasurement are the flags of 'cube-hal attest --measurement-from-images
// DIR': the images, and the launch settings that enter the measurement,
// spelled as 'cube-hal launch' spells them so the same values can be passed
// to both.
type imagesMeasurement struct {
	dir            string
	cpus           int
	cpuModel       string
	appendS        string
	firmware       string
	noKernelHashes bool
}

var imagesMeasurementSettings = []string{"cpus", "cpu-model", "append", "firmware", "no-kernel-hashes"}

func (m *imagesMeasurement) register(fl *pflag.FlagSet) {
	fl.StringVar(&m.dir, "measurement-from-images", "", "compute the expected SEV-SNP measurement from the images in DIR (bzImage, rootfs.cpio.gz, OVMF.fd) as 'cube-hal launch --mode snp --images DIR' starts them")
	fl.IntVar(&m.cpus, "cpus", 4, "with --measurement-from-images: the VM's vCPUs, as given to launch")
	fl.StringVar(&m.cpuModel, "cpu-model", launch.DefaultSNP.CPUModel, "with --measurement-from-images: the VM's vCPU model, as given to launch")
	fl.StringVar(&m.appendS, "append", launch.DefaultAppend, "with --measurement-from-images: the kernel command line, as given to launch")
	fl.StringVar(&m.firmware, "firmware", "", "with --measurement-from-images: the firmware, when not OVMF.fd in DIR")
	fl.BoolVar(&m.noKernelHashes, "no-kernel-hashes", false, "with --measurement-from-images: the VM was launched with --no-kernel-hashes")
}

// expected computes the measurement, or returns nil when the flag is not
// given. source says where the value comes from, for attest's summary.
func (m *imagesMeasurement) expected(changed func(string) bool) (digest []byte, source string, err error) {
	if m.dir == "" {
		for _, name := range imagesMeasurementSettings {
			if changed != nil && changed(name) {
				return nil, "", usageErrorf("--%s only applies with --measurement-from-images DIR", name)
			}
		}
		return nil, "", nil
	}
	if m.cpus < 1 {
		return nil, "", usageErrorf("--cpus %d: want at least 1", m.cpus)
	}
	cfg := launch.Config{CPUs: m.cpus, Append: m.appendS, Firmware: m.firmware, SNP: launch.DefaultSNP}
	cfg.SNP.CPUModel, cfg.SNP.KernelHashes = m.cpuModel, !m.noKernelHashes
	if cfg, err = imagesConfig(m.dir, cfg); err != nil {
		return nil, "", usageErrorf("--measurement-from-images: %s", err).
			withHint("give the directory 'cube-hal build' wrote (output/images), or the one given to 'cube-hal launch --images'")
	}
	if _, err := measure.VCPUSignature(m.cpuModel); err != nil {
		return nil, "", usageErrorf("--cpu-model: %s", err)
	}
	digest, _, err = cfg.ExpectedSNPMeasurement()
	switch {
	case err == nil:
		return digest, fmt.Sprintf("the images in %s (%d vCPUs, -cpu %s)", m.dir, m.cpus, m.cpuModel), nil
	case errors.Is(err, measure.ErrNoKernelHashes):
		return nil, "", failf("--measurement-from-images: %s", err).
			withHint("%s cannot measure a direct boot; if the VM was launched with --no-kernel-hashes, pass it here too", cfg.Firmware)
	}
	return nil, "", failf("--measurement-from-images: %s", err)
}
