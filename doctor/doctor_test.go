package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/host"
	"github.com/ultravioletrs/cube-hal/host/hosttest"
)

const clone = "git clone --depth 1 --branch X https://example/buildroot.git"

// perfect is a machine on which every check passes: an SNP host that is
// also a TDX host (no such CPU exists, but it exercises both checks).
func perfect(t *testing.T) *hosttest.Machine {
	return hosttest.SNPHost(t).
		CPUInfo("AuthenticAMD", 16, "svm", "sev", "sev_es", "sev_snp", "vmx", "tdx_host_platform").
		Module("kvm_intel").Param("kvm_intel", "tdx", "Y").Device("/dev/sgx_enclave")
}

func run(t *testing.T, m *hosttest.Machine, o Options) *Report {
	t.Helper()
	o.Host = m.Host()
	if o.OutputDir == "" {
		o.OutputDir = t.TempDir() + "/output"
	}
	o.CloneCommand = clone
	return Run(context.Background(), o)
}

func statuses(r *Report) map[string]Check {
	m := map[string]Check{}
	for _, c := range r.Checks {
		m[c.ID] = c
	}
	return m
}

func TestAllPass(t *testing.T) {
	r := run(t, perfect(t), Options{BuildrootDir: "/src/buildroot"})
	for _, c := range r.Checks {
		if c.Status != Pass {
			t.Errorf("%s: %s %q (fix %q)", c.ID, c.Status, c.Detail, c.Fix)
		}
	}
	if !r.OK || r.Failed != 0 || r.Warnings != 0 {
		t.Errorf("OK %v failed %d warnings %d", r.OK, r.Failed, r.Warnings)
	}
	want := []string{"tool.gcc", "tool.patch", "ncurses", "disk", "memory", "cores", "buildroot", "qemu", "qemu.snp", "qemu.tdx", "ovmf", "kvm", "snp", "tdx"}
	got := statuses(r)
	for _, id := range want {
		if _, ok := got[id]; !ok {
			t.Errorf("no check %s", id)
		}
	}
	if len(r.Checks) != len(BuildTools)+len(want)-2 {
		t.Errorf("%d checks, want %d", len(r.Checks), len(BuildTools)+len(want)-2)
	}
	if c := got["ovmf"]; !strings.Contains(c.Detail, "OVMF.amdsev.fd") || !strings.Contains(c.Detail, "kernel-hashes for measured") {
		t.Errorf("ovmf should prefer the AmdSev build: %q", c.Detail)
	}
	var buf bytes.Buffer
	r.WriteText(&buf)
	if !strings.Contains(buf.String(), "All checks pass.") {
		t.Errorf("text:\n%s", buf.String())
	}
}

// Every check, broken one way or more on an otherwise perfect machine: the
// check reports the right status, says what is wrong and how to fix it,
// and nothing else changes.
func TestEachCheckFails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(m *hosttest.Machine, o *Options)
		id     string
		status Status
		detail string // in Detail
		fix    string // in Fix
		also   []string
	}{
		{"gcc missing", func(m *hosttest.Machine, o *Options) { m.RemoveTool("gcc") }, "tool.gcc", Fail, "not on PATH", "apt-get install gcc", nil},
		{"g++ missing", func(m *hosttest.Machine, o *Options) { m.RemoveTool("g++") }, "tool.g++", Fail, "not on PATH", "apt-get install g++", nil},
		{"wget missing", func(m *hosttest.Machine, o *Options) { m.RemoveTool("wget") }, "tool.wget", Fail, "not on PATH", "apt-get install wget", nil},
		{"ncurses missing", func(m *hosttest.Machine, o *Options) { m.Remove("/usr/include/ncurses.h") }, "ncurses", Warn, "menuconfig", "libncurses-dev", nil},
		{"disk low", func(m *hosttest.Machine, o *Options) { m.Avail = 19 << 30 }, "disk", Fail, "19.0 GiB free", "--output", nil},
		{"disk unmeasurable", func(m *hosttest.Machine, o *Options) { m.StatfsErr = errors.New("EIO") }, "disk", Fail, "EIO", "--output", nil},
		{"memory low", func(m *hosttest.Machine, o *Options) { m.Memory(4<<30, 3<<30) }, "memory", Warn, "4.0 GiB", "--jobs", nil},
		{"meminfo unreadable", func(m *hosttest.Machine, o *Options) { m.Remove("/proc/meminfo") }, "memory", Warn, "cannot read", "", nil},
		{"cores few", func(m *hosttest.Machine, o *Options) {
			m.File("/sys/devices/system/cpu/online", "0-1\n")
		}, "cores", Warn, "2 online", "more cores", nil},
		{"no buildroot", func(m *hosttest.Machine, o *Options) { o.BuildrootDir = "" }, "buildroot", Warn, "standalone", clone, nil},
		{"qemu missing", func(m *hosttest.Machine, o *Options) { m.RemoveTool(host.DefaultQEMU) }, "qemu", Fail, "not on PATH", "qemu-system-x86", nil},
		{"qemu broken", func(m *hosttest.Machine, o *Options) {
			m.Tool(host.DefaultQEMU, "echo 'error while loading shared libraries: libgio' >&2; exit 127")
		}, "qemu", Fail, "libgio", "--reinstall", nil},
		{"qemu 7.2", func(m *hosttest.Machine, o *Options) { m.QEMU("7.2.22", hosttest.Objects72...) }, "qemu.snp", Warn, "no sev-snp-guest", "9.1", []string{"qemu.tdx"}},
		{"qemu 9.2", func(m *hosttest.Machine, o *Options) {
			m.QEMU("9.2.0", "sev-guest", "sev-snp-guest", "memory-backend-memfd")
		}, "qemu.tdx", Warn, "no tdx-guest", "10.1", nil},
		{"no ovmf", func(m *hosttest.Machine, o *Options) { m.Remove("/usr/share/ovmf") }, "ovmf", Warn, "none found", "apt-get install ovmf", nil},
		{"pflash only", func(m *hosttest.Machine, o *Options) {
			m.Remove("/usr/share/ovmf").OVMF("/usr/share/OVMF/OVMF_CODE_4M.fd", hosttest.DebianOVMF)
		}, "ovmf", Warn, "only pflash", "apt-get install ovmf", nil},
		{"no kvm", func(m *hosttest.Machine, o *Options) { m.Remove("/dev/kvm") }, "kvm", Warn, "not present", "modprobe", nil},
		{"kvm not ours", func(m *hosttest.Machine, o *Options) { m.LockedDevice("/dev/kvm") }, "kvm", Warn, "cannot open read-write", "usermod -aG kvm", nil},
		{"kvm without vmx/svm", func(m *hosttest.Machine, o *Options) {
			m.CPUInfo("AuthenticAMD", 16, "hypervisor", "sev_snp", "tdx_host_platform").Module("kvm_pvm")
		}, "kvm", Warn, "neither vmx nor svm", "nested virtualisation", nil},
		{"snp param off", func(m *hosttest.Machine, o *Options) { m.Param("kvm_amd", "sev_snp", "N") }, "snp", Warn, `sev_snp is "N"`, "sev_snp=1", nil},
		{"snp kernel too old", func(m *hosttest.Machine, o *Options) { m.Remove("/sys/module/kvm_amd/parameters/sev_snp") }, "snp", Warn, "no sev_snp parameter", "6.11", nil},
		{"snp no cpu flag", func(m *hosttest.Machine, o *Options) {
			m.CPUInfo("AuthenticAMD", 16, "svm", "sev", "vmx", "tdx_host_platform")
		}, "snp", Warn, "does not report sev_snp", "EPYC", nil},
		{"snp no /dev/sev", func(m *hosttest.Machine, o *Options) { m.Remove("/dev/sev") }, "snp", Warn, "/dev/sev is missing", "ccp", nil},
		{"snp /dev/sev locked", func(m *hosttest.Machine, o *Options) { m.LockedDevice("/dev/sev") }, "snp", Warn, "/dev/sev cannot open", "/dev/sev", nil},
		{"tdx param off", func(m *hosttest.Machine, o *Options) { m.Param("kvm_intel", "tdx", "N") }, "tdx", Warn, `tdx is "N"`, "tdx=1", nil},
		{"tdx kvm_intel unloaded", func(m *hosttest.Machine, o *Options) { m.Remove("/sys/module/kvm_intel") }, "tdx", Warn, "kvm_intel is not loaded", "tdx=1", nil},
		{"tdx no cpu flag", func(m *hosttest.Machine, o *Options) {
			m.CPUInfo("AuthenticAMD", 16, "svm", "sev", "sev_snp", "vmx")
		}, "tdx", Warn, "tdx_host_platform", "Xeon", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := perfect(t)
			o := Options{BuildrootDir: "/src/buildroot"}
			tc.break_(m, &o)
			r := run(t, m, o)
			for _, c := range r.Checks {
				want := Pass
				if c.ID == tc.id || slices.Contains(tc.also, c.ID) {
					want = tc.status
				}
				if c.Status != want {
					t.Errorf("%s: %s (%q), want %s", c.ID, c.Status, c.Detail, want)
				}
			}
			c := statuses(r)[tc.id]
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("%s detail %q, want it to say %q", tc.id, c.Detail, tc.detail)
			}
			if !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("%s fix %q, want it to say %q", tc.id, c.Fix, tc.fix)
			}
			if r.OK != (tc.status != Fail) {
				t.Errorf("OK = %v with a %s", r.OK, tc.status)
			}
		})
	}
}

func TestRequireMakesAdvisoryChecksFail(t *testing.T) {
	m := hosttest.PVMGuest(t) // no KVM, SNP or TDX
	r := run(t, m, Options{BuildrootDir: "/br"})
	if !r.OK {
		t.Fatalf("advisory failures alone must not fail: %+v", r.Checks)
	}
	for _, tc := range []struct {
		require []string
		failing []string
	}{
		{[]string{"kvm"}, []string{"kvm"}},
		{[]string{"snp"}, []string{"kvm", "qemu.snp", "snp"}},
		{[]string{"tdx"}, []string{"kvm", "qemu.tdx", "tdx"}},
		{[]string{"snp", "tdx"}, []string{"kvm", "qemu.snp", "snp", "qemu.tdx", "tdx"}},
	} {
		r := run(t, m, Options{BuildrootDir: "/br", Require: tc.require})
		if r.OK || r.Failed != len(tc.failing) {
			t.Errorf("--require %v: OK %v, %d failed, want %v", tc.require, r.OK, r.Failed, tc.failing)
		}
		for _, id := range tc.failing {
			if c := statuses(r)[id]; c.Status != Fail || !c.Required {
				t.Errorf("--require %v: %s is %s (required %v)", tc.require, id, c.Status, c.Required)
			}
		}
	}
	// On a real SNP host, --require snp passes.
	if r := run(t, hosttest.SNPHost(t), Options{BuildrootDir: "/br", Require: []string{"snp"}}); !r.OK {
		t.Errorf("SNP host with --require snp: %+v", r.Checks)
	}
}

func TestTextReport(t *testing.T) {
	m := hosttest.PVMGuest(t).RemoveTool("wget")
	r := run(t, m, Options{})
	var buf bytes.Buffer
	r.WriteText(&buf)
	out := buf.String()
	for _, want := range []string{
		"Build\n", "Launch\n",
		"  FAIL  wget ", "fix: sudo apt-get install wget\n",
		"  warn  KVM ", "kvm_pvm",
		"  pass  gcc ",
		"1 required check(s) failed, ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "  pass") && strings.Contains(line, "fix:") {
			t.Errorf("a passing check shows a fix: %q", line)
		}
	}
}

func TestJSONReport(t *testing.T) {
	r := run(t, hosttest.PVMGuest(t), Options{})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		OK     bool
		Checks []struct{ ID, Status string }
		Host   struct {
			KVM struct {
				Usable bool
				Why    string
			}
		}
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.OK || len(back.Checks) != len(r.Checks) || back.Host.KVM.Usable || back.Host.KVM.Why == "" {
		t.Errorf("JSON round trip: %s", b)
	}
}

// This machine, read for real: doctor must agree with what the system
// says through other means.
func TestThisMachine(t *testing.T) {
	r := Run(context.Background(), Options{OutputDir: t.TempDir()})
	got := statuses(r)
	for _, tool := range BuildTools {
		_, err := exec.LookPath(tool.Name)
		if (err == nil) != (got["tool."+tool.Name].Status == Pass) {
			t.Errorf("%s: LookPath %v, doctor %s", tool.Name, err, got["tool."+tool.Name].Status)
		}
	}
	_, err := exec.LookPath(host.DefaultQEMU)
	if (err == nil) != (got["qemu"].Status == Pass) {
		t.Errorf("qemu: LookPath %v, doctor %+v", err, got["qemu"])
	}
	if (got["kvm"].Status == Pass) != r.Host.KVM.Usable {
		t.Errorf("kvm check %s, host says usable=%v", got["kvm"].Status, r.Host.KVM.Usable)
	}
	if r.OK != (r.Failed == 0) {
		t.Errorf("OK %v with %d failures", r.OK, r.Failed)
	}
}

// Each build tool, missing on its own, fails its own check and only that.
func TestEachBuildToolIsRequired(t *testing.T) {
	for _, tool := range BuildTools {
		m := perfect(t).RemoveTool(tool.Name)
		r := run(t, m, Options{BuildrootDir: "/br"})
		for _, c := range r.Checks {
			want := Pass
			if c.ID == "tool."+tool.Name {
				want = Fail
				if c.Fix != "sudo apt-get install "+tool.Package {
					t.Errorf("%s fix %q", tool.Name, c.Fix)
				}
			}
			if c.Status != want {
				t.Errorf("without %s: %s is %s", tool.Name, c.ID, c.Status)
			}
		}
		if r.OK || r.Failed != 1 {
			t.Errorf("without %s: OK %v failed %d", tool.Name, r.OK, r.Failed)
		}
	}
}
