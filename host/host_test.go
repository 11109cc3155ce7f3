package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/ovmf"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// The shape of this very machine: an AMD guest with the paravirtualised
// kvm_pvm module, no svm flag (docs: cvm-facts §8).
const pvmFlags = "fpu vme de pse tsc msr pae hypervisor lahf_lm cmp_legacy sse4a"

func TestParseCPUInfo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         string
		vendor     string
		processors int
		has        []string
		hasNot     []string
		hwvirt     bool
	}{
		{"amd snp host", "processor : 0\nvendor_id : AuthenticAMD\nflags : svm sev sev_es sev_snp fpu\nprocessor : 1\nflags : other\n",
			"AuthenticAMD", 2, []string{FlagSVM, FlagSEVSNP, FlagSEV, FlagSEVES}, []string{"other", FlagVMX}, true},
		{"intel tdx host", "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: vmx tdx_host_platform\n",
			"GenuineIntel", 1, []string{FlagVMX, FlagTDXHostPlatform}, []string{FlagSVM}, true},
		{"pvm guest", "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: " + pvmFlags + "\n",
			"AuthenticAMD", 1, []string{FlagHypervisor}, []string{FlagSVM, FlagVMX, FlagSEV}, false},
		{"empty", "", "", 0, nil, []string{FlagSVM}, false},
		{"garbage", "no colon here\n:::\nflags\n", "", 0, nil, []string{"flags"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ParseCPUInfo(tc.in)
			if c.Vendor != tc.vendor || c.Processors != tc.processors {
				t.Errorf("vendor %q processors %d, want %q %d", c.Vendor, c.Processors, tc.vendor, tc.processors)
			}
			for _, f := range tc.has {
				if !c.Has(f) {
					t.Errorf("missing flag %s in %v", f, c.Flags)
				}
			}
			for _, f := range tc.hasNot {
				if c.Has(f) {
					t.Errorf("unexpected flag %s", f)
				}
			}
			if c.HardwareVirt() != tc.hwvirt {
				t.Errorf("HardwareVirt = %v, want %v", c.HardwareVirt(), tc.hwvirt)
			}
		})
	}
}

func TestKVM(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flags   string
		dev     string // "", "file" (opens rw), "dir" (present, cannot open rw)
		modules []string
		usable  bool
		why     string
	}{
		{"no device", "svm", "", nil, false, "not present"},
		{"cannot open", "vmx", "dir", []string{"kvm", "kvm_intel"}, false, "cannot open read-write"},
		{"pvm: opens but no vmx/svm", pvmFlags, "file", []string{"kvm", "kvm_pvm"}, false, "kvm_pvm"},
		{"nested without virt flags", "hypervisor sse", "file", []string{"kvm"}, false, "without nested virtualisation"},
		{"amd", "svm sse", "file", []string{"kvm", "kvm_amd"}, true, ""},
		{"intel", "vmx sse", "file", []string{"kvm", "kvm_intel"}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMachine(t)
			m.cpuinfo("AuthenticAMD", tc.flags)
			switch tc.dev {
			case "file":
				m.file("/dev/kvm", "")
			case "dir":
				m.dir("/dev/kvm")
			}
			for _, mod := range tc.modules {
				m.dir("/sys/module/" + mod)
			}
			k := m.host().KVM()
			if k.Usable != tc.usable {
				t.Errorf("Usable = %v, want %v (why %q)", k.Usable, tc.usable, k.Why)
			}
			if !strings.Contains(k.Why, tc.why) || (tc.why == "") != (k.Why == "") {
				t.Errorf("Why = %q, want it to say %q", k.Why, tc.why)
			}
			want := tc.modules
			if want == nil {
				want = []string{}
			}
			if !slices.Equal(k.Modules, want) {
				t.Errorf("Modules = %v, want %v", k.Modules, want)
			}
			if k.Device.Present != (tc.dev != "") || k.Device.ReadWrite != (tc.dev == "file") {
				t.Errorf("Device = %+v", k.Device)
			}
		})
	}
}

func TestSEVAndTDX(t *testing.T) {
	for _, tc := range []struct {
		name       string
		flags      string
		snpParam   string // "" = file absent
		tdxParam   string
		sevDev     bool
		snp, tdx   bool
		cpuSNP     bool
		cpuTDXHost bool
	}{
		{"snp host", "svm sev sev_es sev_snp", "Y", "", true, true, false, true, false},
		{"snp flag, module off", "svm sev sev_es sev_snp", "N", "", true, false, false, true, false},
		{"snp param 1", "svm sev_snp", "1", "", false, true, false, true, false},
		{"module on, cpu lacks sev_snp", "svm sev", "Y", "", true, false, false, false, false},
		{"tdx host", "vmx tdx_host_platform", "", "Y", false, false, true, false, true},
		{"tdx flag, no module param", "vmx tdx_host_platform", "", "", false, false, false, false, true},
		{"tdx param, no flag", "vmx", "", "Y", false, false, false, false, false},
		{"neither", pvmFlags, "", "", false, false, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMachine(t)
			m.cpuinfo("X", tc.flags)
			if tc.snpParam != "" {
				m.file("/sys/module/kvm_amd/parameters/sev_snp", tc.snpParam+"\n")
			}
			if tc.tdxParam != "" {
				m.file("/sys/module/kvm_intel/parameters/tdx", tc.tdxParam+"\n")
			}
			if tc.sevDev {
				m.file("/dev/sev", "")
			}
			h := m.host()
			s, x := h.SEV(), h.TDX()
			if s.SNPHost != tc.snp || s.CPUSEVSNP != tc.cpuSNP {
				t.Errorf("SEV = %+v, want SNPHost %v", s, tc.snp)
			}
			if s.ParamSEVSNP != tc.snpParam {
				t.Errorf("ParamSEVSNP = %q, want %q", s.ParamSEVSNP, tc.snpParam)
			}
			if s.Device.Present != tc.sevDev || s.Device.ReadWrite != tc.sevDev {
				t.Errorf("/dev/sev = %+v, want present %v", s.Device, tc.sevDev)
			}
			if x.Host != tc.tdx || x.CPUHostPlatform != tc.cpuTDXHost || x.ParamTDX != tc.tdxParam {
				t.Errorf("TDX = %+v, want Host %v", x, tc.tdx)
			}
		})
	}
}

func TestMemoryAndCores(t *testing.T) {
	m := newMachine(t)
	h := m.host()
	if mem := h.Memory(); mem.Err == "" || mem.Total != 0 {
		t.Errorf("no meminfo: %+v, want an error", mem)
	}
	m.file("/proc/meminfo", "MemTotal:       24684096 kB\nMemFree:        24161688 kB\nMemAvailable:   24286004 kB\nHugePages_Total:       0\n")
	mem := h.Memory()
	if mem.Err != "" || mem.Total != 24684096*1024 || mem.Available != 24286004*1024 {
		t.Errorf("Memory = %+v", mem)
	}
	m.file("/proc/meminfo", "MemFree: 12 kB\n")
	if mem := h.Memory(); mem.Err == "" {
		t.Errorf("meminfo without MemTotal: %+v, want an error", mem)
	}

	m.cpuinfo("X", "fpu") // two processors
	if n := h.Cores(); n != 2 {
		t.Errorf("Cores from cpuinfo = %d, want 2", n)
	}
	m.file("/sys/devices/system/cpu/online", "0-3,6,8-9\n")
	if n := h.Cores(); n != 7 {
		t.Errorf("Cores from online list = %d, want 7", n)
	}
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string]int{
		"0": 1, "0-1\n": 2, "0-3,6,8-9": 7, "": 0, "x": 0, "3-1": 0, "0-": 0, "-1": 0, "0,,1": 0, "0-99999999": 0,
	} {
		if got := ParseCPUList(in); got != want {
			t.Errorf("ParseCPUList(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestFreeDisk(t *testing.T) {
	d := t.TempDir()
	var asked string
	h := &Host{Statfs: func(p string) (uint64, uint64, error) {
		asked = p
		return 30 << 30, 100 << 30, nil
	}}
	disk, err := h.FreeDisk(filepath.Join(d, "output", "not", "yet"))
	if err != nil {
		t.Fatal(err)
	}
	if asked != d || disk.Measured != d || disk.Avail != 30<<30 || disk.Total != 100<<30 {
		t.Errorf("FreeDisk = %+v (statfs asked %q), want %s measured", disk, asked, d)
	}
	h.Statfs = func(string) (uint64, uint64, error) { return 0, 0, errors.New("boom") }
	if _, err := h.FreeDisk(d); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("statfs failure: err %v", err)
	}
	// The real statfs on a real directory.
	disk, err = Local().FreeDisk(d)
	if err != nil || disk.Total == 0 || disk.Avail > disk.Total {
		t.Errorf("real FreeDisk(%s) = %+v, %v", d, disk, err)
	}
}

func TestLookPath(t *testing.T) {
	m := newMachine(t)
	gcc := m.tool("gcc", "exit 0")
	if err := os.WriteFile(filepath.Join(m.bin, "make"), []byte("not executable"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(m.bin, "git"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &Host{Path: ":" + filepath.Join(m.root, "nope") + ":" + m.bin}
	if p, err := h.LookPath("gcc"); err != nil || p != gcc {
		t.Errorf("LookPath(gcc) = %q, %v", p, err)
	}
	for _, name := range []string{"make", "git", "wget"} {
		if p, err := h.LookPath(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookPath(%s) = %q, %v; want ErrNotFound", name, p, err)
		}
	}
	if p, err := h.LookPath(gcc); err != nil || p != gcc {
		t.Errorf("LookPath(absolute) = %q, %v", p, err)
	}
}

func TestNcursesHeader(t *testing.T) {
	m := newMachine(t)
	h := m.host()
	if p := h.NcursesHeader(); p != "" {
		t.Errorf("no headers: got %q", p)
	}
	m.file("/usr/include/curses.h", "")
	if p := h.NcursesHeader(); p != "/usr/include/curses.h" {
		t.Errorf("got %q", p)
	}
	m.file("/usr/include/ncursesw/curses.h", "")
	if p := h.NcursesHeader(); p != "/usr/include/ncursesw/curses.h" {
		t.Errorf("ncursesw first: got %q", p)
	}
}

const objectHelp72 = `List of user creatable objects:
  authz-list
  memory-backend-memfd
  memory-backend-ram
  sev-guest
  throttle-group
`

const objectHelp101 = `List of user creatable objects:
  igvm-cfg
  memory-backend-memfd
  sev-guest
  sev-snp-guest
  tdx-guest
`

// fakeQEMU is a shell script answering like QEMU.
func fakeQEMU(version, objects string) string {
	return `case "$1" in
--version) printf '%s\n' "` + version + `" "Copyright (c) 2003-2024 Fabrice Bellard and the QEMU Project developers";;
-object) printf '%s' "` + objects + `";;
-accel) printf 'Accelerators supported in QEMU binary:\ntcg\nkvm\n';;
*) echo "qemu: unexpected $*" >&2; exit 1;;
esac`
}

func TestQEMU(t *testing.T) {
	ctx := context.Background()
	t.Run("7.2 debian", func(t *testing.T) {
		m := newMachine(t)
		p := m.tool(DefaultQEMU, fakeQEMU("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)", objectHelp72))
		q := m.host().QEMU(ctx, DefaultQEMU)
		if q.Err != "" || q.Path != p || q.Version != (Version{7, 2, 22}) {
			t.Fatalf("QEMU = %+v", q)
		}
		if !q.HasObject(ObjectSEVGuest) || !q.HasObject(ObjectMemfd) || q.HasObject(ObjectSEVSNPGuest) || q.HasObject(ObjectTDXGuest) {
			t.Errorf("objects %v", q.Objects)
		}
		if !q.HasAccel("kvm") || !q.HasAccel("tcg") || q.Version.AtLeast(9, 1) || !q.Version.AtLeast(7, 2) {
			t.Errorf("accels %v version %v", q.Accels, q.Version)
		}
		if !strings.HasPrefix(q.VersionText, "QEMU emulator version 7.2.22") {
			t.Errorf("VersionText %q", q.VersionText)
		}
	})
	t.Run("10.1 upstream", func(t *testing.T) {
		m := newMachine(t)
		m.tool(DefaultQEMU, fakeQEMU("QEMU emulator version 10.1.0 (v10.1.0)", objectHelp101))
		q := m.host().QEMU(ctx, DefaultQEMU)
		if q.Err != "" || q.Version != (Version{10, 1, 0}) || !q.Version.AtLeast(9, 1) || !q.Version.AtLeast(10, 1) {
			t.Fatalf("QEMU = %+v", q)
		}
		for _, o := range []string{ObjectSEVSNPGuest, ObjectTDXGuest, ObjectIGVMCfg} {
			if !q.HasObject(o) {
				t.Errorf("missing %s in %v", o, q.Objects)
			}
		}
	})
	t.Run("not on PATH", func(t *testing.T) {
		q := newMachine(t).host().QEMU(ctx, DefaultQEMU)
		if q.Found() || !strings.Contains(q.Err, "not found") {
			t.Errorf("QEMU = %+v", q)
		}
	})
	t.Run("--version fails", func(t *testing.T) {
		m := newMachine(t)
		m.tool(DefaultQEMU, `echo "error while loading shared libraries: libfoo.so" >&2; exit 127`)
		q := m.host().QEMU(ctx, DefaultQEMU)
		if !q.Found() || !strings.Contains(q.Err, "libfoo.so") || q.Version != (Version{}) {
			t.Errorf("QEMU = %+v", q)
		}
	})
	t.Run("no version in output", func(t *testing.T) {
		m := newMachine(t)
		m.tool(DefaultQEMU, `echo "hello"`)
		q := m.host().QEMU(ctx, DefaultQEMU)
		if !strings.Contains(q.Err, `no version in "hello"`) {
			t.Errorf("QEMU = %+v", q)
		}
	})
	t.Run("-object help fails", func(t *testing.T) {
		m := newMachine(t)
		m.tool(DefaultQEMU, `[ "$1" = --version ] && { echo "QEMU emulator version 8.0.0"; exit 0; }; echo "bad option" >&2; exit 1`)
		q := m.host().QEMU(ctx, DefaultQEMU)
		if q.Version != (Version{8, 0, 0}) || !strings.Contains(q.Err, "-object help") || !strings.Contains(q.Err, "bad option") {
			t.Errorf("QEMU = %+v", q)
		}
	})
	t.Run("no -accel help", func(t *testing.T) {
		m := newMachine(t)
		m.tool(DefaultQEMU, `case "$1" in --version) echo "QEMU emulator version 4.2.1";; -object) printf 'List of user creatable objects:\n  sev-guest\n';; *) echo "qemu: -accel: invalid option" >&2; exit 1;; esac`)
		q := m.host().QEMU(ctx, DefaultQEMU)
		if q.Err != "" || q.Version != (Version{4, 2, 1}) || !q.HasObject(ObjectSEVGuest) || len(q.Accels) != 0 {
			t.Errorf("QEMU = %+v", q)
		}
	})
	t.Run("hangs", func(t *testing.T) {
		m := newMachine(t)
		m.tool(DefaultQEMU, `sleep 30`)
		h := m.host()
		h.CommandTimeout = 200 * time.Millisecond
		start := time.Now()
		q := h.QEMU(ctx, DefaultQEMU)
		if !strings.Contains(q.Err, "timed out") {
			t.Errorf("QEMU = %+v", q)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v to give up", d)
		}
	})
	t.Run("injected runner", func(t *testing.T) {
		m := newMachine(t)
		m.tool(DefaultQEMU, "exit 1") // never run: the runner answers
		h := m.host()
		var calls []string
		h.Run = func(_ context.Context, path string, args ...string) ([]byte, error) {
			calls = append(calls, strings.Join(args, " "))
			switch args[0] {
			case "--version":
				return []byte("QEMU emulator version 9.1.2\n"), nil
			case "-object":
				return []byte(objectHelp101), nil
			}
			return []byte("Accelerators supported in QEMU binary:\ntcg\n"), nil
		}
		q := h.QEMU(ctx, DefaultQEMU)
		if q.Err != "" || q.Version != (Version{9, 1, 2}) || !q.HasObject(ObjectSEVSNPGuest) || q.HasAccel("kvm") {
			t.Errorf("QEMU = %+v", q)
		}
		if !slices.Equal(calls, []string{"--version", "-object help", "-accel help"}) {
			t.Errorf("calls %q", calls)
		}
	})
}

func TestParseQEMUVersion(t *testing.T) {
	for in, want := range map[string]Version{
		"QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright": {7, 2, 22},
		"QEMU emulator version 9.1.0":                  {9, 1, 0},
		"QEMU emulator version 10.1.50 (v10.1.0-1234)": {10, 1, 50},
		"QEMU emulator version 8.2":                    {8, 2, 0},
		"warning: x\nQEMU emulator version 6.2.0":      {6, 2, 0},
	} {
		if v, ok := ParseQEMUVersion(in); !ok || v != want {
			t.Errorf("ParseQEMUVersion(%q) = %v %v, want %v", in, v, ok, want)
		}
	}
	for _, in := range []string{"", "QEMU emulator version x.y", "qemu 7.2", "QEMU emulator version 99999999999999999999.1"} {
		if v, ok := ParseQEMUVersion(in); ok {
			t.Errorf("ParseQEMUVersion(%q) = %v, want failure", in, v)
		}
	}
	if s := (Version{}).String(); s != "unknown" {
		t.Errorf("zero version prints %q", s)
	}
}

func TestFirmware(t *testing.T) {
	m := newMachine(t)
	amdsev := firmwareImage(100,
		ovmf.Entry{GUID: ovmf.SEVMetadata, Data: le32(0x52c)},
		ovmf.Entry{GUID: ovmf.SEVHashTable, Data: append(le32(0x80c000), le32(0x400)...)},
	)
	plain := firmwareImage(100,
		ovmf.Entry{GUID: ovmf.SEVHashTable, Data: make([]byte, 8)}, // base 0: not usable for kernel-hashes
		ovmf.Entry{GUID: ovmf.SEVMetadata, Data: le32(0x52c)},
		ovmf.Entry{GUID: ovmf.TDXMetadata, Data: le32(0x840)},
	)
	m.file("/usr/share/ovmf/OVMF.amdsev.fd", string(amdsev))
	m.file("/usr/share/ovmf/OVMF.fd", string(plain))
	m.file("/usr/share/OVMF/OVMF_CODE_4M.fd", "no table")
	m.file("/usr/share/OVMF/OVMF_VARS_4M.fd", "vars")
	m.file("/usr/share/OVMF/OVMF_CODE.fd", "code without vars")
	m.dir("/usr/share/qemu")
	if err := os.Symlink("../ovmf/OVMF.fd", filepath.Join(m.root, "usr/share/qemu/OVMF.fd")); err != nil {
		t.Fatal(err)
	}
	m.file("/usr/share/qemu/firmware/60-edk2-x86_64.json", `{
  "interface-types": ["uefi"],
  "mapping": {"device": "flash", "executable": {"filename": "/usr/share/OVMF/OVMF_CODE_4M.fd", "format": "raw"},
              "nvram-template": {"filename": "/usr/share/OVMF/OVMF_VARS_4M.fd", "format": "raw"}},
  "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}],
  "features": ["acpi-s3", "amd-sev"]
}`)
	m.file("/usr/share/qemu/firmware/50-aarch64.json", `{"interface-types": ["uefi"], "mapping": {"device": "flash",
  "executable": {"filename": "/usr/share/AAVMF/AAVMF_CODE.fd"}}, "targets": [{"architecture": "aarch64"}]}`)
	m.file("/usr/share/qemu/firmware/10-broken.json", `{not json`)

	fws := m.host().Firmware()
	got := map[string]Firmware{}
	var order []string
	for _, fw := range fws {
		rel := "/" + strings.TrimPrefix(fw.Path, m.root+"/")
		got[rel] = fw
		order = append(order, rel)
	}
	want := []string{"/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/ovmf/OVMF.amdsev.fd", "/usr/share/ovmf/OVMF.fd", "/usr/share/OVMF/OVMF_CODE.fd"}
	if !slices.Equal(order, want) {
		t.Fatalf("found %v, want %v (descriptor first, VARS and symlink duplicates dropped)", order, want)
	}
	c4 := got["/usr/share/OVMF/OVMF_CODE_4M.fd"]
	if c4.Kind != FirmwarePflash || c4.Vars != filepath.Join(m.root, "usr/share/OVMF/OVMF_VARS_4M.fd") ||
		!slices.Equal(c4.Features, []string{"acpi-s3", "amd-sev"}) || !strings.HasSuffix(c4.Descriptor, "60-edk2-x86_64.json") ||
		c4.SEVMetadata || c4.SEVHashTable || c4.TDXMetadata {
		t.Errorf("CODE_4M = %+v", c4)
	}
	if c := got["/usr/share/OVMF/OVMF_CODE.fd"]; c.Kind != FirmwarePflash || c.Vars != "" {
		t.Errorf("CODE without VARS = %+v", c)
	}
	if a := got["/usr/share/ovmf/OVMF.amdsev.fd"]; a.Kind != FirmwareBIOS || !a.SEVMetadata || !a.SEVHashTable || a.TDXMetadata || a.Size != int64(len(amdsev)) {
		t.Errorf("amdsev = %+v", a)
	}
	if p := got["/usr/share/ovmf/OVMF.fd"]; p.Kind != FirmwareBIOS || !p.SEVMetadata || p.SEVHashTable || !p.TDXMetadata {
		t.Errorf("plain OVMF.fd = %+v", p)
	}

	if fws := newMachine(t).host().Firmware(); len(fws) != 0 {
		t.Errorf("empty machine has firmware %v", fws)
	}
}

func TestParseHelpList(t *testing.T) {
	if got := ParseHelpList(objectHelp72); !slices.Equal(got, []string{"authz-list", "memory-backend-memfd", "memory-backend-ram", "sev-guest", "throttle-group"}) {
		t.Errorf("objects %v", got)
	}
	if got := ParseHelpList("Accelerators supported in QEMU binary:\ntcg\nkvm\n"); !slices.Equal(got, []string{"kvm", "tcg"}) {
		t.Errorf("accels %v", got)
	}
	if got := ParseHelpList("no heading\nfoo\n"); len(got) != 0 {
		t.Errorf("no heading: %v", got)
	}
}

// The whole probe on a fake SNP host.
func TestProbeFakeSNPHost(t *testing.T) {
	m := newMachine(t)
	m.cpuinfo("AuthenticAMD", "svm sev sev_es sev_snp")
	m.file("/proc/meminfo", "MemTotal: 67108864 kB\nMemAvailable: 60000000 kB\n")
	m.file("/proc/sys/kernel/osrelease", "6.11.0-snp\n")
	m.file("/sys/devices/system/cpu/online", "0-31\n")
	m.file("/sys/module/kvm_amd/parameters/sev_snp", "Y\n")
	m.dir("/sys/module/kvm")
	m.dir("/sys/module/kvm_amd")
	m.file("/dev/kvm", "")
	m.file("/dev/sev", "")
	m.file("/dev/vhost-vsock", "")
	m.file("/usr/include/ncurses.h", "")
	m.file("/usr/share/ovmf/OVMF.fd", string(firmwareImage(10, ovmf.Entry{GUID: ovmf.SEVMetadata, Data: le32(1)}, ovmf.Entry{GUID: ovmf.SEVHashTable, Data: append(le32(9), le32(9)...)})))
	m.tool(DefaultQEMU, fakeQEMU("QEMU emulator version 9.1.0", objectHelp101))
	f := m.host().Probe(context.Background())
	if f.KernelRelease != "6.11.0-snp" || f.Cores != 32 || f.Memory.Total != 64<<30 || !f.KVM.Usable ||
		!f.SEV.SNPHost || !f.SEV.Device.ReadWrite || f.TDX.Host || !f.VhostVsock.ReadWrite ||
		!f.QEMU.HasObject(ObjectSEVSNPGuest) || len(f.Firmware) != 1 || !f.Firmware[0].SEVHashTable ||
		f.NcursesHeader != "/usr/include/ncurses.h" || f.Root != m.root {
		t.Errorf("Probe = %+v", f)
	}
}

// The real machine: whatever it is, the facts must hold together and match
// what the system says through other means.
func TestProbeThisMachine(t *testing.T) {
	f := Local().Probe(context.Background())
	if f.CPU.Err != "" || f.CPU.Vendor == "" || f.CPU.Processors == 0 {
		t.Errorf("CPU = %+v", f.CPU)
	}
	if f.Cores <= 0 || f.Memory.Total == 0 || f.Memory.Available > f.Memory.Total {
		t.Errorf("cores %d memory %+v", f.Cores, f.Memory)
	}
	_, statErr := os.Stat("/dev/kvm")
	if f.KVM.Device.Present != (statErr == nil) {
		t.Errorf("/dev/kvm present = %v, stat says %v", f.KVM.Device.Present, statErr)
	}
	if f.KVM.Usable != (f.KVM.Device.ReadWrite && f.CPU.HardwareVirt()) || f.KVM.Usable == (f.KVM.Why != "") {
		t.Errorf("KVM = %+v with hardware virt %v", f.KVM, f.CPU.HardwareVirt())
	}
}

func TestRealQEMU(t *testing.T) {
	testenv.Tool(t, DefaultQEMU)
	q := Local().QEMU(context.Background(), DefaultQEMU)
	if q.Err != "" || !q.Version.AtLeast(6, 0) || !q.HasObject(ObjectMemfd) || !q.HasAccel("tcg") {
		t.Errorf("QEMU = %+v", q)
	}
	if !strings.Contains(q.VersionText, q.Version.String()[:3]) {
		t.Errorf("version %v not in %q", q.Version, q.VersionText)
	}
}

// Debian's ovmf package: a unified OVMF.fd built from OvmfPkgX64, which
// has the SEV and TDX metadata but no usable kernel-hashes area (that needs
// the AmdSevX64 build).
func TestRealDebianOVMF(t *testing.T) {
	p := testenv.File(t, "/usr/share/ovmf/OVMF.fd", "Debian package ovmf")
	for _, fw := range Local().Firmware() {
		if fw.Path != p {
			continue
		}
		if fw.Kind != FirmwareBIOS || !fw.SEVMetadata || !fw.TDXMetadata || fw.SEVHashTable {
			t.Errorf("Debian OVMF.fd = %+v", fw)
		}
		return
	}
	t.Errorf("%s not listed in %+v", p, Local().Firmware())
}

// The SEV-SNP and TDX host rules doctor and launch share: nothing missing
// on a ready host, each missing part named once, in order, and an
// unreadable /proc/cpuinfo never taken for a ready CPU.
func TestSNPAndTDXProblems(t *testing.T) {
	kvm := KVM{Modules: []string{"kvm", "kvm_amd", "kvm_intel"}}
	sev := SEV{CPUSEVSNP: true, ParamSEVSNP: "Y", Device: Device{Present: true, ReadWrite: true}}
	tdx := TDX{CPUHostPlatform: true, ParamTDX: "1"}
	if ps := SNPProblems(CPU{}, kvm, sev); len(ps) != 0 {
		t.Errorf("ready SNP host: %v", ps)
	}
	if ps := TDXProblems(CPU{}, kvm, tdx); len(ps) != 0 {
		t.Errorf("ready TDX host: %v", ps)
	}
	unreadable := CPU{Err: "permission denied"}
	if ps := SNPProblems(unreadable, kvm, sev); len(ps) != 1 || !strings.Contains(ps[0].Reason, "cannot tell whether the CPU offers sev_snp (permission denied)") {
		t.Errorf("unreadable cpuinfo, SNP: %v", ps)
	}
	if ps := TDXProblems(unreadable, kvm, tdx); len(ps) != 1 || !strings.Contains(ps[0].Reason, "tdx_host_platform (permission denied)") {
		t.Errorf("unreadable cpuinfo, TDX: %v", ps)
	}
	bare := SEV{ParamSEVSNP: "", Device: Device{}}
	ps := SNPProblems(CPU{}, KVM{}, bare)
	var reasons []string
	for _, p := range ps {
		if p.Fix == "" {
			t.Errorf("%q has no fix", p.Reason)
		}
		reasons = append(reasons, p.Reason)
	}
	if len(ps) != 3 || !strings.HasPrefix(reasons[0], "the CPU does not report sev_snp") ||
		!strings.HasPrefix(reasons[1], "kvm_amd is not loaded") || !strings.HasPrefix(reasons[2], "/dev/sev is missing") {
		t.Errorf("bare host: %q", reasons)
	}
	if ps := TDXProblems(CPU{}, KVM{Modules: []string{"kvm_intel"}}, TDX{CPUHostPlatform: true, ParamTDX: "N"}); len(ps) != 1 || ps[0].String() != `kvm_intel has TDX off (/sys/module/kvm_intel/parameters/tdx is "N"; reload it with tdx=1)` {
		t.Errorf("TDX off: %v", ps)
	}
}
