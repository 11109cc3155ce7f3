package cubecfg

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// brMake runs make in a Buildroot checkout with O=out and the Cube tree.
func brMake(t *testing.T, br, out string, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-s", "-C", br, "O=" + out, "BR2_EXTERNAL=" + externalDir(t)}, args...)...)
	cmd.Env = append(os.Environ(), "BR2_DEFCONFIG=")
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, got)
	}
	return string(got)
}

// assignments returns the SYM=value and "# SYM is not set" lines of a
// defconfig, sorted.
func assignments(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if l != "" && (!strings.HasPrefix(l, "#") || strings.HasSuffix(l, " is not set")) {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}

// With a real Buildroot checkout: `make cube_defconfig` works, the .config
// holds every Cube option with its default, and savedefconfig gives back
// exactly cube_defconfig (so the defconfig is minimal), which loads into
// the same .config again.
func TestBuildrootCubeDefconfig(t *testing.T) {
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "make", "gcc")
	out := t.TempDir()
	brMake(t, br, out, "cube_defconfig")
	first, err := os.ReadFile(filepath.Join(out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := ParseConfig(bytes.NewReader(first), ".config")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range options {
		if !o.Enabled(vals.Get) {
			if o.Package != SymVLLM && o.DependsOn == "" {
				t.Errorf("%s is not in effect after cube_defconfig", o.Symbol)
			}
			continue
		}
		want := o.Default
		if o.Symbol == SymAgent || o.Symbol == SymOllama {
			want = "y"
		}
		if o.Kind == Choice {
			if got := o.Selected(vals.Get); got != want {
				t.Errorf("%s: %q selected, want %q", o.Symbol, got, want)
			}
			continue
		}
		if got, ok := vals[o.Symbol]; !ok && !(o.Kind == Bool && want == "") || got != want {
			t.Errorf("%s = %q (present %v), want %q", o.Symbol, got, ok, want)
		}
	}
	for sym, want := range map[string]string{
		"BR2_INIT_SYSTEMD": "y", "BR2_TARGET_ROOTFS_CPIO": "y", "BR2_TARGET_ROOTFS_CPIO_GZIP": "y",
		"BR2_TARGET_ROOTFS_EXT2_4": "y", "BR2_PACKAGE_OPENSSH": "y", "BR2_TARGET_ENABLE_ROOT_LOGIN": "",
		"BR2_LINUX_KERNEL": "y", "BR2_TOOLCHAIN_USES_GLIBC": "y", "BR2_PACKAGE_HOST_GO": "y",
	} {
		if got := vals[sym]; got != want {
			t.Errorf("%s = %q, want %q", sym, got, want)
		}
	}

	saved := filepath.Join(out, "saved_defconfig")
	brMake(t, br, out, "savedefconfig", "BR2_DEFCONFIG="+saved)
	want := assignments(t, filepath.Join(externalDir(t), "configs", "cube_defconfig"))
	if got := assignments(t, saved); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("savedefconfig is not cube_defconfig:\n--- savedefconfig\n%s\n--- cube_defconfig\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	brMake(t, br, out, "defconfig", "BR2_DEFCONFIG="+saved)
	second, err := os.ReadFile(filepath.Join(out, ".config"))
	if err != nil {
		t.Fatal(err)
	}
	// Only the record of where the defconfig came from may differ.
	dropDefconfig := func(b []byte) string {
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, "BR2_DEFCONFIG=") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if a, b := dropDefconfig(first), dropDefconfig(second); a != b {
		t.Errorf("the saved defconfig loads into a different .config:\n%s", lineDiff(a, b))
	}
}

// With a real Buildroot checkout: the cube-agent package's own steps that
// run without a cross toolchain work offline. Buildroot copies this
// checkout (without the overlay, which may hold keys), the modules are
// vendored from the host's Go module cache through the proxy setting the
// .mk computes, and the agent then builds with Buildroot's Go flags
// (-mod=vendor, no proxy).
func TestBuildrootCubeAgentSourcesOffline(t *testing.T) {
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "make", "gcc", "rsync", "go")
	out := t.TempDir()
	brMake(t, br, out, "cube_defconfig")
	brMake(t, br, out, "cube-agent-rsync")
	src := filepath.Join(out, "build", "cube-agent-local")
	for _, p := range []string{"go.mod", "agent/cmd/cube-agent"} {
		if _, err := os.Stat(filepath.Join(src, p)); err != nil {
			t.Errorf("%s not copied: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(src, "overlay")); err == nil {
		t.Errorf("the overlay (keys) was copied into the build directory")
	}
	printvar := func(name string, extra ...string) string {
		t.Helper()
		vars := brMake(t, br, out, append([]string{"printvars", "VARS=" + name, "QUOTED_VARS=YES"}, extra...)...)
		for _, l := range strings.Split(vars, "\n") {
			if v, ok := strings.CutPrefix(l, name+"="); ok {
				return strings.Trim(v, `'"`)
			}
		}
		t.Fatalf("printvars printed no %s:\n%s", name, vars)
		return ""
	}
	// The overlay: the checkout's overlay/ by default, cube-hal's workspace
	// overlay when it passes one.
	overlays := strings.Fields(printvar("BR2_ROOTFS_OVERLAY"))
	if len(overlays) != 2 || filepath.Clean(overlays[1]) != filepath.Join(testenv.RepoRoot(t), "overlay") {
		t.Errorf("BR2_ROOTFS_OVERLAY expands to %q, want the board overlay and %s", overlays, filepath.Join(testenv.RepoRoot(t), "overlay"))
	}
	if got := strings.Fields(printvar("BR2_ROOTFS_OVERLAY", "CUBE_HAL_OVERLAY=/srv/ov")); len(got) != 2 || got[1] != "/srv/ov" {
		t.Errorf("with CUBE_HAL_OVERLAY=/srv/ov, BR2_ROOTFS_OVERLAY expands to %q", got)
	}
	proxy := printvar("CUBE_AGENT_GOPROXY")
	if !strings.HasPrefix(proxy, "file://") {
		t.Fatalf("CUBE_AGENT_GOPROXY = %q, want the host module cache first", proxy)
	}
	// Offline: only the host's module cache may serve modules.
	fileOnly, _, _ := strings.Cut(proxy, ",")
	cache := t.TempDir()
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), append([]string{"GOMODCACHE=" + cache, "GOTOOLCHAIN=local", "GOWORK=off"}, env...)...)
		if got, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, got)
		}
	}
	run([]string{"GOFLAGS=-mod=mod", "GOPROXY=" + fileOnly}, "mod", "vendor")
	run([]string{"GOFLAGS=-mod=vendor", "GOPROXY=off", "CGO_ENABLED=0"},
		"build", "-trimpath", "-o", filepath.Join(out, "cube-agent"), "./agent/cmd/cube-agent")
	if fi, err := os.Stat(filepath.Join(out, "cube-agent")); err != nil || fi.Size() == 0 {
		t.Fatalf("no cube-agent binary: %v", err)
	}
}

// lineDiff lists the lines only in a (-) or only in b (+).
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var d []string
	for l := range ma {
		if !mb[l] {
			d = append(d, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			d = append(d, "+ "+l)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}
