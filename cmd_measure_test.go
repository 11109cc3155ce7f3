package main

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/agent/agenttest"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/launch"
	"github.com/ultravioletrs/cube-hal/launch/measure"
)

func measureVectors(t *testing.T) string {
	return filepath.Join(testenv.SharedDir(t), "testvectors", "sev-snp-measure")
}

// Every published vector row, run through the command line the way the
// reference tool is run: the same flags give the same output and exit code.
func TestMeasureCLIVectors(t *testing.T) {
	dir := measureVectors(t)
	f, err := os.Open(filepath.Join(dir, "vectors.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	rows := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 10 {
			t.Fatalf("bad row %q", line)
		}
		rows++
		args := []string{"measure", "--mode", "snp", "--vcpus=" + c[2], "--vcpu-type", c[3],
			"--ovmf", filepath.Join(dir, c[1]), "--guest-features", c[7], "--vmm-type", c[8]}
		for flag, spec := range map[string]string{"--kernel": c[4], "--initrd": c[5]} {
			if spec == "empty" {
				args = append(args, flag, empty)
			}
		}
		switch c[6] {
		case "-":
		case `""`:
			args = append(args, "--append=")
		default:
			args = append(args, "--append", c[6])
		}
		t.Run(c[0], func(t *testing.T) {
			code, out, errOut := runCLI(t, args...)
			if msg, ok := strings.CutPrefix(c[9], "error: "); ok {
				if code != exitFailed || !strings.HasPrefix(errOut, "cube-hal: "+msg+"\n") {
					t.Fatalf("exit %d, stderr %q; want exit 1 and %q", code, errOut, msg)
				}
				return
			}
			if code != exitOK || out != c[9]+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %s", code, out, errOut, c[9])
			}
		})
	}
	if rows == 0 {
		t.Fatal("no vector rows")
	}
}

func TestMeasureCLIOutputs(t *testing.T) {
	dir := measureVectors(t)
	amd := filepath.Join(dir, "ovmf_AmdSev_suffix.bin")
	const want = "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"
	base := []string{"measure", "--mode", "snp", "--vcpus", "1", "--ovmf", amd, "--guest-features", "0x21"}
	raw, _ := hex.DecodeString(want)

	cases := []struct {
		name string
		args []string
		out  string
	}{
		{"vcpu-type", append(base, "--vcpu-type", "EPYC-v4"), want + "\n"},
		{"vcpu-type with =", append(base, "--vcpu-type=EPYC-v4"), want + "\n"},
		{"vcpu-sig", append(base, "--vcpu-sig", "0x800f12"), want + "\n"},
		{"vcpu-sig decimal", append(base, "--vcpu-sig", "8392466"), want + "\n"},
		{"family/model/stepping", append(base, "--vcpu-family", "23", "--vcpu-model", "1", "--vcpu-stepping", "2"), want + "\n"},
		{"family wins over type", append(base, "--vcpu-family", "23", "--vcpu-model", "1", "--vcpu-stepping", "2", "--vcpu-type", "EPYC-Milan"), want + "\n"},
		{"guest features decimal", append(base[:len(base)-1], "33", "--vcpu-type", "EPYC-v4"), want + "\n"},
		{"vmm type lower case", append(base, "--vcpu-type", "EPYC-v4", "--vmm-type", "qemu"), want + "\n"},
		{"base64", append(base, "--vcpu-type", "EPYC-v4", "--output-format", "base64"), base64.StdEncoding.EncodeToString(raw) + "\n"},
		{"verbose", append(base, "--vcpu-type", "EPYC-v4", "-v"), "Calculated SEV_SNP guest measurement: " + want + "\n"},
		{"precomputed OVMF hash", append(base, "--vcpu-type", "EPYC-v4", "--snp-ovmf-hash",
			"086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74"), want + "\n"},
		{"ovmf-hash mode", []string{"measure", "--mode", "snp:ovmf-hash", "--ovmf", amd},
			"086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74\n"},
		{"ec2 needs no vcpu type", []string{"measure", "--mode", "snp", "--vcpus", "1", "--ovmf", amd, "--vmm-type", "ec2", "--kernel", os.DevNull, "--initrd", os.DevNull, "--append="},
			"0883bd0eeb716e65b7b977a321c278d1e51b33b5c655fab985443bbcc65c086b9c15e8a0bd8811050dec7e24964e5056\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			if code != exitOK || out != c.out {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, c.out)
			}
		})
	}
}

// Bad flags are usage errors (exit 2) naming the flag; files that cannot be
// used are failures (exit 1) naming the file.
func TestMeasureCLIErrors(t *testing.T) {
	dir := measureVectors(t)
	amd := filepath.Join(dir, "ovmf_AmdSev_suffix.bin")
	x64 := filepath.Join(dir, "ovmf_OvmfX64_suffix.bin")
	tmp := t.TempDir()
	k := filepath.Join(tmp, "bzImage")
	if err := os.WriteFile(k, []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	snp := func(extra ...string) []string {
		return append([]string{"measure", "--mode", "snp", "--ovmf", amd}, extra...)
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no mode", []string{"measure", "--ovmf", amd}, exitUsage, []string{"--mode is required"}},
		{"no ovmf", []string{"measure", "--mode", "snp"}, exitUsage, []string{"--ovmf is required"}},
		{"bad mode", snp("--mode", "tdx"), exitUsage, []string{`--mode "tdx"`, "snp:ovmf-hash"}},
		{"sev mode", snp("--mode", "seves"), exitUsage, []string{"--mode seves is not supported", "sev-snp-measure"}},
		{"no vcpus", snp("--vcpu-type", "EPYC-v4"), exitUsage, []string{"missing --vcpus N"}},
		{"zero vcpus", snp("--vcpus", "0", "--vcpu-type", "EPYC-v4"), exitUsage, []string{"--vcpus 0"}},
		{"vcpus not a number", snp("--vcpus", "four"), exitUsage, []string{"--vcpus", "four"}},
		{"no vcpu type", snp("--vcpus", "1"), exitUsage, []string{"missing --vcpu-type or --vcpu-sig or --vcpu-family"}},
		{"unknown vcpu type", snp("--vcpus", "1", "--vcpu-type", "EPYC-v9"), exitUsage, []string{"--vcpu-type", `"EPYC-v9"`, "EPYC-v4", "EPYC-Genoa"}},
		{"bad vcpu sig", snp("--vcpus", "1", "--vcpu-sig", "zz"), exitUsage, []string{"--vcpu-sig", `"zz"`}},
		{"family alone", snp("--vcpus", "1", "--vcpu-family", "23"), exitUsage, []string{"--vcpu-family needs --vcpu-model and --vcpu-stepping"}},
		{"unknown vmm", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--vmm-type", "azure"), exitUsage, []string{"--vmm-type", `"azure"`, "QEMU, ec2, gce"}},
		{"bad features", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--guest-features", "lots"), exitUsage, []string{"--guest-features", `"lots"`}},
		{"features without SNPActive", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--guest-features", "0x20"), exitUsage, []string{"--guest-features 0x20", "SNPActive"}},
		{"bad output format", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--output-format", "json"), exitUsage, []string{"--output-format", "json"}},
		{"bad ovmf hash", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--snp-ovmf-hash", "abcd"), exitUsage, []string{"--snp-ovmf-hash", "96 hex digits"}},
		{"initrd without kernel", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--initrd", k), exitUsage, []string{"--kernel required when using --initrd"}},
		{"append without kernel", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--append", "quiet"), exitUsage, []string{"--kernel required when using --append"}},
		{"unknown flag", snp("--vcpus", "1", "--no-such"), exitUsage, []string{"--no-such"}},
		{"stray argument", snp("--vcpus", "1", "OVMF.fd"), exitUsage, []string{"OVMF.fd"}},
		{"missing ovmf file", []string{"measure", "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", filepath.Join(tmp, "OVMF.fd")},
			exitFailed, []string{"OVMF", filepath.Join(tmp, "OVMF.fd"), "no such file", "hint: check the paths"}},
		{"missing ovmf file, hash mode", []string{"measure", "--mode", "snp:ovmf-hash", "--ovmf", filepath.Join(tmp, "gone.fd")},
			exitFailed, []string{"gone.fd"}},
		{"missing kernel file", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--kernel", filepath.Join(tmp, "vmlinuz")),
			exitFailed, []string{"kernel", filepath.Join(tmp, "vmlinuz"), "no such file"}},
		{"missing initrd file", snp("--vcpus", "1", "--vcpu-type", "EPYC-v4", "--kernel", k, "--initrd", filepath.Join(tmp, "initrd.img")),
			exitFailed, []string{"initrd", filepath.Join(tmp, "initrd.img")}},
		{"kernel without hashes section", []string{"measure", "--mode", "snp", "--vcpus", "1", "--vcpu-type", "EPYC-v4", "--ovmf", x64, "--kernel", k},
			exitFailed, []string{"cube-hal: Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section\n", "hint: " + x64, "AmdSevX64"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q on error", out)
			}
			if !strings.HasPrefix(errOut, "cube-hal: ") {
				t.Errorf("stderr %q does not start with 'cube-hal: '", errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q does not mention %q", errOut, w)
				}
			}
		})
	}
}

// A real firmware without SEV metadata (Debian's split OVMF_CODE) is refused
// with a hint.
func TestMeasureCLINoSNPMetadata(t *testing.T) {
	p := testenv.File(t, "/usr/share/OVMF/OVMF_CODE_4M.fd", "Debian package ovmf")
	code, _, errOut := runCLI(t, "measure", "--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-v4", "--ovmf", p)
	if code != exitFailed || !strings.Contains(errOut, p) || !strings.Contains(errOut, "no SEV-SNP metadata") || !strings.Contains(errOut, "hint: ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestMeasureCLIDumpVMSA(t *testing.T) {
	amd := filepath.Join(measureVectors(t), "ovmf_AmdSev_suffix.bin")
	t.Chdir(t.TempDir())
	code, _, errOut := runCLI(t, "measure", "--mode", "snp", "--vcpus", "3", "--vcpu-type", "EPYC-v4", "--ovmf", amd, "--dump-vmsa")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for i := range 3 {
		b, err := os.ReadFile(filepath.Join(".", "vmsa"+string(rune('0'+i))+".bin"))
		if err != nil || len(b) != 4096 {
			t.Fatalf("vmsa%d.bin: %d bytes, %v", i, len(b), err)
		}
	}
}

// snpImages writes an images directory as 'cube-hal build' leaves it: a
// bzImage (a boot-protocol header is all QEMU's loader and the measurement
// look at), an initramfs, and OVMF.fd (a symlink to the reference AmdSevX64
// fixture, used in place).
func snpImages(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	kernel := make([]byte, 64<<10)
	copy(kernel[0x202:], "HdrS")
	for name, data := range map[string][]byte{"bzImage": kernel, "rootfs.cpio.gz": []byte("initramfs bytes")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(measureVectors(t), "ovmf_AmdSev_suffix.bin"), filepath.Join(dir, "OVMF.fd")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func snpDigestHex(t *testing.T, o measure.Options) string {
	t.Helper()
	d, err := measure.SNPDigest(o)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(d)
}

// 'cube-hal launch --mode snp' states the measurement of exactly what it
// starts: the value matches the digest of the files, vCPU count, -cpu
// model and command line on its QEMU command line. --dry-run shows it on any
// host (this one cannot run SNP).
func TestLaunchPrintsExpectedSNPMeasurement(t *testing.T) {
	dir := snpImages(t)
	state := t.TempDir()
	full := measure.Options{OVMF: filepath.Join(dir, "OVMF.fd"), Kernel: filepath.Join(dir, "bzImage"),
		Initrd: filepath.Join(dir, "rootfs.cpio.gz"), Append: "console=ttyS0 quiet", VCPUs: 3, VCPUType: "EPYC-Milan"}
	noHashes := measure.Options{OVMF: full.OVMF, VCPUs: 3, VCPUType: "EPYC-Milan"}
	cases := []struct {
		name    string
		extra   []string
		want    string // expected digest, "" for none
		cmdline []string
		warning string
	}{
		{"kernel-hashes", nil, snpDigestHex(t, full),
			[]string{"-cpu EPYC-Milan ", "-smp 3 ", "kernel-hashes=on", "-append 'console=ttyS0 quiet'", "-bios " + full.OVMF}, ""},
		{"no kernel-hashes", []string{"--no-kernel-hashes"}, snpDigestHex(t, noHashes),
			[]string{"kernel-hashes=off"}, "the measurement covers the firmware and vCPUs only"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--state-dir", state, "launch", "--mode", "snp", "--dry-run", "--images", dir,
				"--cpus", "3", "--cpu-model", "EPYC-Milan", "--append", "console=ttyS0 quiet"}, c.extra...)
			code, out, errOut := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(errOut, "cube-hal: expected SEV-SNP measurement: "+c.want+"\n") {
				t.Errorf("stderr does not state measurement %s:\n%s", c.want, errOut)
			}
			for _, w := range c.cmdline {
				if !strings.Contains(out, w) {
					t.Errorf("QEMU command line lacks %q:\n%s", w, out)
				}
			}
			if c.warning != "" && !strings.Contains(errOut, c.warning) {
				t.Errorf("stderr lacks warning %q:\n%s", c.warning, errOut)
			}
		})
	}
}

// When the value cannot be known the launch says why instead of printing a
// wrong one; other modes have none.
func TestLaunchSNPMeasurementUnknown(t *testing.T) {
	dir := snpImages(t)
	elf := filepath.Join(t.TempDir(), "vmlinux")
	if err := os.WriteFile(elf, []byte("\x7fELF not a bzImage"), 0o644); err != nil {
		t.Fatal(err)
	}
	x64 := filepath.Join(measureVectors(t), "ovmf_OvmfX64_suffix.bin")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"vmlinux", []string{"--kernel", elf, "--initrd", filepath.Join(dir, "rootfs.cpio.gz"), "--firmware", filepath.Join(dir, "OVMF.fd")}, "is not a bzImage"},
		{"host cpu", []string{"--images", dir, "--cpu-model", "host"}, `unknown vCPU type "host"`},
		{"firmware without hashes section", []string{"--images", dir, "--firmware", x64}, "SNP_KERNEL_HASHES"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--state-dir", t.TempDir(), "launch", "--mode", "snp", "--dry-run"}, c.args...)
			_, _, errOut := runCLI(t, args...)
			if strings.Contains(errOut, "expected SEV-SNP measurement:") ||
				!strings.Contains(errOut, "warning: the expected SEV-SNP measurement is unknown: ") || !strings.Contains(errOut, c.want) {
				t.Fatalf("stderr:\n%s\nwant the unknown-measurement warning mentioning %q", errOut, c.want)
			}
		})
	}
	_, _, errOut := runCLI(t, "--state-dir", t.TempDir(), "launch", "--mode", "plain", "--dry-run", "--images", dir)
	if strings.Contains(errOut, "SEV-SNP measurement") {
		t.Errorf("plain mode mentions an SNP measurement:\n%s", errOut)
	}
}

// measurementFromImages is what 'cube-hal attest --measurement-from-images'
// compares reports with: the same value launch states for those images.
func TestMeasurementFromImages(t *testing.T) {
	dir := snpImages(t)
	got, err := measurementFromImages(dir, launch.Config{CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := snpDigestHex(t, measure.Options{OVMF: filepath.Join(dir, "OVMF.fd"), Kernel: filepath.Join(dir, "bzImage"),
		Initrd: filepath.Join(dir, "rootfs.cpio.gz"), Append: launch.DefaultAppend, VCPUs: 2, VCPUType: launch.DefaultSNP.CPUModel})
	if hex.EncodeToString(got) != want {
		t.Fatalf("%x, want %s (launch's defaults: %q, %s)", got, want, launch.DefaultAppend, launch.DefaultSNP.CPUModel)
	}
	// Launch's defaults when nothing is given: 4 vCPUs.
	def, err := measurementFromImages(dir, launch.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(def) != snpDigestHex(t, measure.Options{OVMF: filepath.Join(dir, "OVMF.fd"), Kernel: filepath.Join(dir, "bzImage"),
		Initrd: filepath.Join(dir, "rootfs.cpio.gz"), Append: launch.DefaultAppend, VCPUs: 4, VCPUType: "EPYC-v4"}) {
		t.Errorf("defaults: %x", def)
	}

	if err := os.Remove(filepath.Join(dir, "OVMF.fd")); err != nil {
		t.Fatal(err)
	}
	if _, err := measurementFromImages(dir, launch.Config{}); err == nil || !strings.Contains(err.Error(), "no firmware") || !strings.Contains(err.Error(), dir) {
		t.Errorf("no firmware: %v", err)
	}
	if _, err := measurementFromImages(filepath.Join(dir, "nope"), launch.Config{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing directory: %v", err)
	}
}

// 'cube-hal attest --measurement-from-images DIR' computes the measurement
// of the images and checks the guest's report against it in one step. The
// agent is the real cube-agent server with its fake TSM, which signs
// reports carrying the measurement it is told.
func TestAttestMeasurementFromImages(t *testing.T) {
	dir := snpImages(t)
	d, err := measurementFromImages(dir, launch.Config{CPUs: 2, Append: "console=ttyS0 quiet"})
	if err != nil {
		t.Fatal(err)
	}
	a := agenttest.Start(t, map[string]string{"UV_CUBE_AGENT_TSM": "fake", "UV_CUBE_AGENT_FAKE_MEASUREMENT": hex.EncodeToString(d)}, nil)
	attest := func(extra ...string) (int, string, string) {
		return runCLI(t, append([]string{"attest", "--agent", a.URL, "--test-roots", "--measurement-from-images", dir}, extra...)...)
	}

	code, out, errOut := attest("--cpus", "2", "--append", "console=ttyS0 quiet")
	if code != exitOK || !strings.Contains(out, "ok    measurement") || !strings.Contains(out, "the images in "+dir) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// Any launch setting that differs is caught: the guest is not what these
	// images and settings would give.
	for _, wrong := range [][]string{
		{"--cpus", "4", "--append", "console=ttyS0 quiet"},
		{"--cpus", "2"},
		{"--cpus", "2", "--append", "console=ttyS0 quiet", "--cpu-model", "EPYC-Genoa"},
		{"--cpus", "2", "--append", "console=ttyS0 quiet", "--no-kernel-hashes"},
	} {
		code, out, _ := attest(wrong...)
		if code != exitFailed || !strings.Contains(out, "FAIL  measurement") {
			t.Errorf("%v: exit %d\n%s", wrong, code, out)
		}
	}
}

func TestAttestMeasurementFromImagesErrors(t *testing.T) {
	dir := snpImages(t)
	empty := t.TempDir()
	x64 := filepath.Join(measureVectors(t), "ovmf_OvmfX64_suffix.bin")
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"both expected values", []string{"--measurement-from-images", dir, "--measurement", strings.Repeat("ab", 48)}, exitUsage, []string{"both given"}},
		{"tdx", []string{"--measurement-from-images", dir, "--mode", "tdx"}, exitUsage, []string{"not a TDX MRTD"}},
		{"setting without images", []string{"--cpus", "8"}, exitUsage, []string{"--cpus only applies with --measurement-from-images"}},
		{"no images", []string{"--measurement-from-images", empty}, exitUsage, []string{"--measurement-from-images", empty, "no kernel"}},
		{"unknown cpu model", []string{"--measurement-from-images", dir, "--cpu-model", "EPYC-v9"}, exitUsage, []string{"--cpu-model", "EPYC-v9"}},
		{"zero cpus", []string{"--measurement-from-images", dir, "--cpus", "0"}, exitUsage, []string{"--cpus 0"}},
		{"firmware without hashes", []string{"--measurement-from-images", dir, "--firmware", x64}, exitFailed,
			[]string{"Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section", "--no-kernel-hashes"}},
		{"missing firmware file", []string{"--measurement-from-images", dir, "--firmware", filepath.Join(empty, "OVMF.fd")}, exitFailed,
			[]string{filepath.Join(empty, "OVMF.fd")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// No agent is contacted: the expected value is settled first.
			code, _, errOut := runCLI(t, append([]string{"attest", "--agent", "http://127.0.0.1:1"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}
