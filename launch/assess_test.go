package launch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/host"
	"github.com/ultravioletrs/cube-hal/host/hosttest"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// fakeHost is a fake /proc, /sys, /dev tree plus a fake QEMU binary.
type fakeHost struct {
	flags      string            // cpuinfo flags
	params     map[string]string // "kvm_amd/sev_snp" → "Y"; a module with "" has no such parameter file
	devs       map[string]string // "kvm" → "rw" | "dir" (cannot open rw) ; absent: missing
	qemuVer    string            // "" → no QEMU binary
	qemuObjs   []string
	qemuBroken bool   // exits 1 on --version
	firmware   []byte // an OVMF image (hosttest builds them); nil: none
}

func (h fakeHost) build(t *testing.T) (root, qemu, fw string) {
	t.Helper()
	root = t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: Fake\nflags\t\t: "+h.flags+"\n\nprocessor\t: 1\nflags\t\t: other\n")
	for k, v := range h.params {
		mod, param, _ := strings.Cut(k, "/")
		dir := filepath.Join(root, "sys/module", mod, "parameters")
		os.MkdirAll(dir, 0o755)
		if param != "" {
			write(filepath.Join("sys/module", mod, "parameters", param), v+"\n")
		}
	}
	for d, how := range h.devs {
		p := filepath.Join(root, "dev", d)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if how == "dir" {
			os.MkdirAll(p, 0o755)
		} else {
			write(filepath.Join("dev", d), "")
		}
	}
	qemu = filepath.Join(root, "no-such-qemu")
	if h.qemuVer != "" {
		qemu = filepath.Join(root, "bin", "qemu-system-x86_64")
		os.MkdirAll(filepath.Dir(qemu), 0o755)
		var objs strings.Builder
		for _, o := range h.qemuObjs {
			objs.WriteString("  " + o + "\\n")
		}
		exit := "0"
		if h.qemuBroken {
			exit = "1"
		}
		script := fmt.Sprintf(`#!/bin/sh
case "$1" in
--version) echo "QEMU emulator version %s (fake)"; echo "Copyright (c) 2003-2024"; exit %s ;;
-object) printf 'List of user creatable objects:\n%s' ;;
*) echo "fake qemu: unexpected $*" >&2; exit 2 ;;
esac
`, h.qemuVer, exit, objs.String())
		if err := os.WriteFile(qemu, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if h.firmware != nil {
		fw = filepath.Join(root, "OVMF.fd")
		write("OVMF.fd", string(h.firmware))
	}
	return root, qemu, fw
}

func goodSNP() fakeHost {
	return fakeHost{
		flags:    "fpu svm sev sev_es sev_snp",
		params:   map[string]string{"kvm_amd/sev_snp": "Y", "kvm/": ""},
		devs:     map[string]string{"kvm": "rw", "sev": "rw"},
		qemuVer:  "9.2.0",
		qemuObjs: []string{"memory-backend-memfd", "sev-guest", "sev-snp-guest"},
		firmware: hosttest.AmdSevOVMF,
	}
}

func goodTDX() fakeHost {
	return fakeHost{
		flags:    "fpu vmx tdx_host_platform",
		params:   map[string]string{"kvm_intel/tdx": "Y"},
		devs:     map[string]string{"kvm": "rw"},
		qemuVer:  "10.1.0",
		qemuObjs: []string{"memory-backend-memfd", "tdx-guest"},
		firmware: hosttest.DebianOVMF,
	}
}

func assessFake(t *testing.T, h fakeHost, mode Mode, accel Accel) Verdict {
	t.Helper()
	root, qemu, fw := h.build(t)
	f := HostProbe{Host: &host.Host{Root: root}}.Facts(context.Background(), qemu, mode != ModePlain)
	return Assess(f, mode, fw, accel)
}

// Every reason a mode is refused, each against a fake host that is good
// except for that one thing.
func TestAssessRefusals(t *testing.T) {
	cases := []struct {
		name   string
		mode   Mode
		change func(*fakeHost)
		want   string
	}{
		{"snp ok", ModeSNP, func(h *fakeHost) {}, ""},
		{"snp no cpu flag", ModeSNP, func(h *fakeHost) { h.flags = "fpu svm sev sev_es" }, "does not report sev_snp"},
		{"snp kvm_amd not loaded", ModeSNP, func(h *fakeHost) { delete(h.params, "kvm_amd/sev_snp") }, "kvm_amd is not loaded"},
		{"snp kvm_amd without the parameter", ModeSNP, func(h *fakeHost) { delete(h.params, "kvm_amd/sev_snp"); h.params["kvm_amd/"] = "" }, "no sev_snp parameter"},
		{"snp kvm_amd snp off", ModeSNP, func(h *fakeHost) { h.params["kvm_amd/sev_snp"] = "N" }, `sev_snp is "N"`},
		{"snp no /dev/sev", ModeSNP, func(h *fakeHost) { delete(h.devs, "sev") }, "/dev/sev is missing"},
		{"snp /dev/sev not rw", ModeSNP, func(h *fakeHost) { h.devs["sev"] = "dir" }, "/dev/sev cannot open read-write"},
		{"snp no /dev/kvm", ModeSNP, func(h *fakeHost) { delete(h.devs, "kvm") }, "/dev/kvm is not present"},
		{"snp /dev/kvm not rw", ModeSNP, func(h *fakeHost) { h.devs["kvm"] = "dir" }, "/dev/kvm cannot open read-write"},
		{"snp old qemu", ModeSNP, func(h *fakeHost) { h.qemuVer, h.qemuObjs = "7.2.22", []string{"sev-guest"} }, "QEMU 7.2 has no sev-snp-guest; SEV-SNP needs QEMU 9.1 or later"},
		{"snp 9.0 qemu", ModeSNP, func(h *fakeHost) { h.qemuVer = "9.0.2" }, "QEMU 9.0 has no sev-snp-guest"},
		{"snp qemu without object", ModeSNP, func(h *fakeHost) { h.qemuObjs = []string{"sev-guest"} }, "built without sev-snp-guest"},
		{"snp no qemu", ModeSNP, func(h *fakeHost) { h.qemuVer = "" }, "not found"},
		{"snp broken qemu", ModeSNP, func(h *fakeHost) { h.qemuBroken = true }, "--version: exit status 1"},
		{"snp no firmware", ModeSNP, func(h *fakeHost) { h.firmware = nil }, "no firmware: SEV-SNP boots OVMF"},
		{"snp firmware without SNP metadata", ModeSNP, func(h *fakeHost) { h.firmware = []byte("not an OVMF") }, "has no SEV-SNP metadata"},
		{"snp Debian OVMF (no hashes area) is fine without kernel-hashes", ModeSNP, func(h *fakeHost) { h.firmware = hosttest.DebianOVMF }, ""},
		{"tdx ok", ModeTDX, func(h *fakeHost) {}, ""},
		{"tdx no cpu flag", ModeTDX, func(h *fakeHost) { h.flags = "fpu vmx" }, "does not report tdx_host_platform"},
		{"tdx kvm_intel not loaded", ModeTDX, func(h *fakeHost) { delete(h.params, "kvm_intel/tdx") }, "kvm_intel is not loaded"},
		{"tdx kvm_intel without the parameter", ModeTDX, func(h *fakeHost) { delete(h.params, "kvm_intel/tdx"); h.params["kvm_intel/"] = "" }, "no tdx parameter"},
		{"tdx param off", ModeTDX, func(h *fakeHost) { h.params["kvm_intel/tdx"] = "N" }, `tdx is "N"`},
		{"tdx no vmx", ModeTDX, func(h *fakeHost) { h.flags = "fpu tdx_host_platform" }, "neither vmx nor svm"},
		{"tdx old qemu", ModeTDX, func(h *fakeHost) { h.qemuVer = "9.2.0" }, "QEMU 9.2 has no tdx-guest; TDX needs QEMU 10.1 or later"},
		{"tdx qemu without object", ModeTDX, func(h *fakeHost) { h.qemuObjs = nil }, "built without tdx-guest"},
		{"tdx no firmware", ModeTDX, func(h *fakeHost) { h.firmware = nil }, "no firmware: TDX boots TDVF"},
		{"tdx firmware that is no TDVF", ModeTDX, func(h *fakeHost) { h.firmware = hosttest.AmdSevOVMF }, "has no TDX metadata"},
		{"plain no qemu", ModePlain, func(h *fakeHost) { h.qemuVer = "" }, "not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := goodSNP()
			if tc.mode == ModeTDX {
				h = goodTDX()
			}
			h.params = clone(h.params)
			h.devs = clone(h.devs)
			tc.change(&h)
			v := assessFake(t, h, tc.mode, AccelAuto)
			if tc.want == "" {
				if !v.OK {
					t.Fatalf("refused: %v", v.Reasons)
				}
				return
			}
			if v.OK {
				t.Fatalf("accepted; want a refusal mentioning %q", tc.want)
			}
			if len(v.Reasons) != 1 {
				t.Errorf("want exactly one reason, got %q", v.Reasons)
			}
			if !strings.Contains(strings.Join(v.Reasons, "\n"), tc.want) {
				t.Errorf("reasons %q do not mention %q", v.Reasons, tc.want)
			}
			if err := v.Error(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Error() = %v", err)
			}
		})
	}
}

func clone(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Plain mode uses KVM only when /dev/kvm opens read-write and the CPU has
// vmx or svm; otherwise TCG with the reason. --accel overrides.
func TestAssessPlainAccel(t *testing.T) {
	base := fakeHost{flags: "fpu vmx", devs: map[string]string{"kvm": "rw"}, qemuVer: "7.2.0", qemuObjs: []string{"sev-guest"}}
	cases := []struct {
		name      string
		change    func(*fakeHost)
		accel     Accel
		want      Accel
		noteMatch string
	}{
		{"kvm usable", func(h *fakeHost) {}, AccelAuto, AccelKVM, ""},
		{"svm also counts", func(h *fakeHost) { h.flags = "fpu svm" }, AccelAuto, AccelKVM, ""},
		{"no /dev/kvm", func(h *fakeHost) { delete(h.devs, "kvm") }, AccelAuto, AccelTCG, "/dev/kvm is not present"},
		{"/dev/kvm not rw", func(h *fakeHost) { h.devs["kvm"] = "dir" }, AccelAuto, AccelTCG, "cannot open read-write"},
		{"paravirtual kvm without vmx/svm", func(h *fakeHost) { h.flags = "fpu hypervisor" }, AccelAuto, AccelTCG, "neither vmx nor svm"},
		{"forced kvm", func(h *fakeHost) { h.flags = "fpu" }, AccelKVM, AccelKVM, "KVM forced"},
		{"forced tcg", func(h *fakeHost) {}, AccelTCG, AccelTCG, "TCG forced"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := base
			h.devs = clone(base.devs)
			tc.change(&h)
			v := assessFake(t, h, ModePlain, tc.accel)
			if !v.OK {
				t.Fatalf("plain refused: %v", v.Reasons)
			}
			if v.Accel != tc.want {
				t.Errorf("accel %q, want %q", v.Accel, tc.want)
			}
			notes := strings.Join(v.Notes, "\n")
			if tc.noteMatch == "" && notes != "" {
				t.Errorf("unexpected notes %q", notes)
			}
			if !strings.Contains(notes, tc.noteMatch) {
				t.Errorf("notes %q do not mention %q", notes, tc.noteMatch)
			}
		})
	}
}

// The real QEMU here (Debian's 7.2) is probed for real: a version and
// object list come back, and SNP/TDX are refused with the version reason.
func TestProbeRealQEMU(t *testing.T) {
	qemu := testenv.Tool(t, "qemu-system-x86_64")[0]
	q := ProbeQEMU(context.Background(), qemu)
	if q.Err != "" {
		t.Fatal(q.Err)
	}
	if q.Version.Major < 7 || !q.HasObject("memory-backend-memfd") {
		t.Fatalf("implausible probe: %+v", q)
	}
	f := HostFacts{QEMU: q}
	if !q.HasObject("sev-snp-guest") {
		v := Assess(f, ModeSNP, "", AccelAuto)
		want := fmt.Sprintf("QEMU %d.%d has no sev-snp-guest; SEV-SNP needs QEMU 9.1 or later", q.Version.Major, q.Version.Minor)
		if !strings.Contains(strings.Join(v.Reasons, "\n"), want) {
			t.Errorf("SNP reasons %q lack %q", v.Reasons, want)
		}
	}
}

// kernel-hashes=on needs an OVMF with a SEV hashes area (AmdSevX64);
// Debian's OvmfPkgX64 build has SNP metadata but no usable area.
func TestCheckKernelHashes(t *testing.T) {
	dir := t.TempDir()
	for name, img := range map[string][]byte{"amdsev": hosttest.AmdSevOVMF, "debian": hosttest.DebianOVMF, "junk": []byte("x")} {
		os.WriteFile(filepath.Join(dir, name), img, 0o644)
	}
	if err := CheckKernelHashes(filepath.Join(dir, "amdsev")); err != nil {
		t.Errorf("AmdSevX64 image refused: %v", err)
	}
	if err := CheckKernelHashes(filepath.Join(dir, "debian")); err == nil || !strings.Contains(err.Error(), "no SEV hashes table") || !strings.Contains(err.Error(), "--no-kernel-hashes") {
		t.Errorf("Debian OVMF with kernel-hashes: %v", err)
	}
	if err := CheckKernelHashes(filepath.Join(dir, "junk")); err != nil {
		t.Errorf("junk (Assess reports it): %v", err)
	}
	// Prepare applies it for snp.
	h := goodSNP()
	h.firmware = hosttest.DebianOVMF
	root, qemu, fw := h.build(t)
	k := filepath.Join(dir, "bzImage")
	os.WriteFile(k, []byte("k"), 0o644)
	cfg := Config{Mode: ModeSNP, Kernel: k, Firmware: fw, QEMU: qemu, SNP: DefaultSNP}
	_, _, err := Prepare(context.Background(), cfg, HostProbe{Host: &host.Host{Root: root}})
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "no SEV hashes table") {
		t.Fatalf("Prepare = %v", err)
	}
	cfg.SNP.KernelHashes = false
	if _, _, err := Prepare(context.Background(), cfg, HostProbe{Host: &host.Host{Root: root}}); err != nil {
		t.Fatalf("Prepare without kernel-hashes: %v", err)
	}
}
