package launch

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/launch/measure"
)

// The measurement inputs are the Config's, with launch's defaults filled in
// exactly as the QEMU command line gets them.
func TestSNPMeasureOptions(t *testing.T) {
	dir := t.TempDir()
	bz := make([]byte, 4096)
	copy(bz[0x202:], "HdrS")
	kernel, initrd := filepath.Join(dir, "bzImage"), filepath.Join(dir, "rootfs.cpio.gz")
	elf := filepath.Join(dir, "vmlinux")
	for p, b := range map[string][]byte{kernel: bz, initrd: []byte("x"), elf: []byte("\x7fELF")} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{Mode: ModeSNP, Kernel: kernel, Initrd: initrd, Firmware: "/fw/OVMF.fd"}
	o, notes, err := cfg.SNPMeasureOptions()
	want := measure.Options{OVMF: "/fw/OVMF.fd", Kernel: kernel, Initrd: initrd, Append: DefaultAppend,
		VCPUs: 4, VCPUType: "EPYC-v4", GuestFeatures: measure.DefaultGuestFeatures}
	if err != nil || notes != nil || !reflect.DeepEqual(o, want) {
		t.Fatalf("defaults: %+v %v %v\nwant %+v", o, notes, err, want)
	}

	off := cfg
	off.SNP = DefaultSNP
	off.SNP.KernelHashes = false
	o, notes, err = off.SNPMeasureOptions()
	if err != nil || o.Kernel != "" || o.Append != "" || len(notes) != 1 || !strings.Contains(notes[0], "kernel-hashes is off") {
		t.Fatalf("kernel-hashes off: %+v %v %v", o, notes, err)
	}

	for name, c := range map[string]struct {
		cfg  Config
		want string
	}{
		"plain":       {Config{Mode: ModePlain, Kernel: kernel}, "no SEV-SNP measurement"},
		"no firmware": {Config{Mode: ModeSNP, Kernel: kernel}, "no firmware"},
		"elf kernel":  {Config{Mode: ModeSNP, Kernel: elf, Firmware: "/fw"}, "not a bzImage"},
		"no kernel":   {Config{Mode: ModeSNP, Kernel: filepath.Join(dir, "gone"), Firmware: "/fw"}, "gone"},
	} {
		if _, _, err := c.cfg.SNPMeasureOptions(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error mentioning %q", name, err, c.want)
		}
	}
}

// The run record of an SEV-SNP VM carries the digest its reports must
// carry: the caller's when it computed one, else computed from the Config;
// other modes, and SNP VMs whose value cannot be known, carry none.
func TestRecordCarriesExpectedMeasurement(t *testing.T) {
	dir := t.TempDir()
	bz := make([]byte, 4096)
	copy(bz[0x202:], "HdrS")
	kernel, initrd := filepath.Join(dir, "bzImage"), filepath.Join(dir, "rootfs.cpio.gz")
	for p, b := range map[string][]byte{kernel: bz, initrd: []byte("initramfs")} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fw := filepath.Join(testenv.SharedDir(t), "testvectors", "sev-snp-measure", "ovmf_AmdSev_suffix.bin")
	cfg := Config{Mode: ModeSNP, Kernel: kernel, Initrd: initrd, Firmware: fw, CPUs: 2}
	want, _, err := cfg.ExpectedSNPMeasurement()
	if err != nil {
		t.Fatal(err)
	}
	if r := newRecord(cfg, nil, Verdict{}, nil); r.ExpectedMeasurement != hex.EncodeToString(want) {
		t.Errorf("computed: %q, want %x", r.ExpectedMeasurement, want)
	}
	given := bytes.Repeat([]byte{0xab}, measure.DigestSize)
	if r := newRecord(cfg, nil, Verdict{}, given); r.ExpectedMeasurement != hex.EncodeToString(given) {
		t.Errorf("given: %q", r.ExpectedMeasurement)
	}
	unknown := cfg
	unknown.Firmware = ""
	if r := newRecord(unknown, nil, Verdict{}, nil); r.ExpectedMeasurement != "" {
		t.Errorf("no firmware, yet a measurement %q", r.ExpectedMeasurement)
	}
	plain := cfg
	plain.Mode = ModePlain
	if r := newRecord(plain, nil, Verdict{}, given); r.ExpectedMeasurement != "" {
		t.Errorf("plain VM with a measurement %q", r.ExpectedMeasurement)
	}
}
