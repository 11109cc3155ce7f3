package brenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

func TestHostArchAndGCCVersion(t *testing.T) {
	tests := []struct{ in, arch string }{
		{"Using built-in specs.\nTarget: x86_64-linux-gnu\nThread model: posix\n", "x86_64"},
		{"Target: i686-pc-linux-gnu\n", "x86"},
		{"Target: armv7l-unknown-linux-gnueabihf\n", "arm"},
		{"Target: powerpc64le-linux-gnu\n", "powerpc64le"},
		{"Target: aarch64-linux-gnu\n", "aarch64"},
		{"no gcc here\n", ""},
	}
	for _, tc := range tests {
		if got := HostArch(tc.in); got != tc.arch {
			t.Errorf("HostArch(%q) = %q, want %q", tc.in, got, tc.arch)
		}
	}
	for in, want := range map[string]string{
		"gcc (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022\n": "12",
		"gcc (GCC) 4.9.4\n":      "4 9",
		"gcc (GCC) 19.1.0\n":     "15",
		"command not found\n":    "",
		"gcc (Ubuntu 9.4.0) x\n": "9",
	} {
		if got := HostGCCVersion(in); got != want {
			t.Errorf("HostGCCVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func fakeTree(t *testing.T) string {
	top := t.TempDir()
	os.WriteFile(filepath.Join(top, "Makefile"), []byte("# x\nexport BR2_VERSION := 2099.01\n"), 0o644)
	os.MkdirAll(filepath.Join(top, "configs"), 0o755)
	os.WriteFile(filepath.Join(top, "configs", "a_defconfig"), nil, 0o644)
	return top
}

func fakeExternal(t *testing.T, name string, provides ...string) string {
	d := t.TempDir()
	os.WriteFile(filepath.Join(d, "external.desc"), []byte("name: "+name+"\ndesc: The "+name+" tree\n"), 0o644)
	os.WriteFile(filepath.Join(d, "external.mk"), nil, 0o644)
	os.WriteFile(filepath.Join(d, "Config.in"), nil, 0o644)
	os.MkdirAll(filepath.Join(d, "configs"), 0o755)
	os.WriteFile(filepath.Join(d, "configs", "a_defconfig"), nil, 0o644)
	for _, p := range provides {
		os.MkdirAll(filepath.Join(d, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(d, p), nil, 0o644)
	}
	return d
}

func fakeRun(dir, name string, args ...string) (string, error) {
	switch {
	case name == "gcc" && len(args) == 1 && args[0] == "-v":
		return "Target: x86_64-linux-gnu", nil
	case name == "gcc":
		return "gcc (Debian 12.2.0-14) 12.2.0", nil
	case len(args) == 1:
		return "", nil // an external's version
	}
	return "2099.01-3-gabcdef", nil
}

func TestPrepare(t *testing.T) {
	top := fakeTree(t)
	ext := fakeExternal(t, "CUBE", "provides/openssl.in")
	out := filepath.Join(t.TempDir(), "o")
	e, err := Prepare(top, out, []string{ext}, Options{Run: fakeRun, LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"BR2_VERSION": "2099.01", "BR2_VERSION_FULL": "2099.01-3-gabcdef", "HOSTARCH": "x86_64", "HOST_GCC_VERSION": "12",
		"BR2_EXTERNAL_NAMES": "CUBE", "BR2_EXTERNAL_CUBE_PATH": ext, "BR2_EXTERNAL_CUBE_DESC": "The CUBE tree",
		"BASE_DIR": e.Output, "BR2_CONFIG": filepath.Join(e.Output, ".config"), "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "n",
	} {
		if got, _ := e.LookupEnv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	in, _ := os.ReadFile(filepath.Join(e.Output, ".br2-external.in.openssl"))
	if !strings.Contains(string(in), "comment \"openssl from: The CUBE tree\"\nsource \""+ext+"/provides/openssl.in\"") {
		t.Errorf("openssl fragment:\n%s", in)
	}
	if p, err := e.FindDefconfig("a_defconfig"); err != nil || p != filepath.Join(ext, "configs", "a_defconfig") {
		t.Errorf("FindDefconfig prefers the external: %q %v", p, err)
	}
	if _, err := e.FindDefconfig("nope_defconfig"); err == nil || !strings.Contains(err.Error(), "looked in") {
		t.Errorf("missing defconfig: %v", err)
	}
	os.WriteFile(e.ConfigFile(), []byte("BR2_DEFCONFIG=\"$(CONFIG_DIR)/x  y\"\n"), 0o644)
	raw := e.DefconfigVar()
	if raw != "$(CONFIG_DIR)/x y" {
		t.Errorf("DefconfigVar = %q", raw)
	}
	if exp, err := e.Expand(raw); err != nil || exp != e.ConfigDir+"/x y" {
		t.Errorf("Expand = %q %v", exp, err)
	}
	if _, err := e.Expand("$(NOPE)/x"); err == nil {
		t.Error("unknown variable expanded")
	}
	if _, err := Prepare(top, out, []string{ext, ext}, Options{Run: fakeRun}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("duplicate external: %v", err)
	}
	bad := t.TempDir()
	if _, err := Prepare(top, out, []string{bad}, Options{Run: fakeRun}); err == nil || !strings.Contains(err.Error(), "external.desc") {
		t.Errorf("external without desc: %v", err)
	}
}

// TestFragmentsMatchScript compares the generated files with Buildroot's
// own support/scripts/br2-external, byte for byte.
func TestFragmentsMatchScript(t *testing.T) {
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "bash")
	for _, exts := range [][]string{nil, {fakeExternal(t, "ONE")},
		{fakeExternal(t, "ONE", "provides/toolchains.in", "linux/Config.ext.in"), fakeExternal(t, "TWO", "provides/init.in", "provides/jpeg.in", "provides/skeleton.in")}} {
		ref := t.TempDir()
		cmd := exec.Command("support/scripts/br2-external", append([]string{"-d", ref}, exts...)...)
		cmd.Dir = br
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		e, err := Prepare(br, t.TempDir(), exts, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range e.fragments() {
			want, err := os.ReadFile(filepath.Join(ref, name))
			if err != nil {
				t.Fatal(err)
			}
			if string(want) != data {
				t.Errorf("%d externals, %s differs:\nscript:\n%s\nours:\n%s", len(exts), name, want, data)
			}
		}
	}
}
