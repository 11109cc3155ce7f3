package brenv

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/kconfig"
	"github.com/ultravioletrs/cube-hal/workspace"
)

func copyCube(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testenv.SharedDir(t), "testvectors", "kconfig", "upstream-cube-external")
	dst := filepath.Join(t.TempDir(), "cube")
	filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, _ := os.ReadFile(p)
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	return dst
}

func TestOpenStandalone(t *testing.T) {
	ext := copyCube(t)
	s, err := Open(&workspace.Workspace{ExternalDir: ext}, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Standalone || s.Source != filepath.Join(ext, "configs", "cube_defconfig") || s.ConfigPath != "" {
		t.Fatalf("session %+v", s)
	}
	if _, err := s.K.Set("BR2_PACKAGE_CUBE_AGENT_LOG_LEVEL", "debug"); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(s.DefconfigPath)
	if !strings.Contains(string(data), "\nBR2_PACKAGE_CUBE_AGENT_LOG_LEVEL=\"debug\"\n") ||
		!strings.Contains(string(data), "# Copyright (c) Ultraviolet\n") {
		t.Error("standalone save did not edit the defconfig in place")
	}
	if _, err := Open(&workspace.Workspace{}, OpenOptions{}); err == nil {
		t.Error("opened with neither Buildroot nor an external tree")
	}
}

// TestOpenBuildroot: a session opened on a fresh output directory loads
// cube_defconfig like `make cube_defconfig`; saving it gives the same
// .config as `cube-hal defconfig` (RunConf with make's environment).
func TestOpenBuildroot(t *testing.T) {
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "gcc", "git", "bash")
	ext := copyCube(t)
	w := &workspace.Workspace{BuildrootDir: br, OutputDir: filepath.Join(t.TempDir(), "out"), ExternalDir: ext}
	s, err := Open(w, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(ext, "configs", "cube_defconfig")
	if s.Standalone || s.Source != def || s.DefconfigPath != def {
		t.Fatalf("session %+v", s)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	ours, _ := os.ReadFile(s.ConfigPath)

	refOut := filepath.Join(t.TempDir(), "ref")
	env, err := Prepare(br, refOut, []string{ext}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var so, se bytes.Buffer
	rc := kconfig.RunConf("conf", []string{"--defconfig=" + def, "Config.in"}, kconfig.ConfIO{Dir: br, Stdout: &so, Stderr: &se,
		LookupEnv: func(n string) (string, bool) {
			if n == "BR2_DEFCONFIG" {
				return def, true
			}
			return env.LookupEnv(n)
		}})
	if rc != 0 {
		t.Fatalf("conf --defconfig: %s", se.String())
	}
	ref, _ := os.ReadFile(env.ConfigFile())
	if string(ref) != string(ours) {
		t.Fatal("a saved session differs from conf --defconfig")
	}
	// Reopened, it reads the .config; saving it again changes nothing.
	s2, err := Open(w, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Source != s2.ConfigPath {
		t.Errorf("reopened from %s", s2.Source)
	}
	if _, data, _ := s2.SaveData(); string(data) != string(ours) {
		t.Error("saving an unchanged session rewrites .config differently")
	}
	if d := s2.DefconfigData(); strings.Contains(string(d), "BR2_DEFCONFIG=") || !strings.Contains(string(d), "BR2_PACKAGE_CUBE_AGENT=y") {
		t.Errorf("defconfig data:\n%s", d)
	}
}

// lateTree is a Buildroot-like tree reading every variable the helpers
// compute, with a last "option env" symbol whose lookup tells the test
// the whole tree has been parsed.
const lateTree = `mainmenu "Buildroot $BR2_VERSION Configuration"
config BR2_VERSION
	string
	option env="BR2_VERSION_FULL"
config BR2_HOSTARCH
	string
	option env="HOSTARCH"
config BR2_BASE_DIR
	string
	option env="BASE_DIR"
source "$BR2_BASE_DIR/.br2-external.in.paths"
config BR2_HOST_GCC_VERSION
	string
	option env="HOST_GCC_VERSION"
config BR2_HOST_GCC_AT_LEAST_12
	bool
	default y if BR2_HOST_GCC_VERSION = "12"
config BR2_HOST_X86
	bool "x86 host"
	default y if BR2_HOSTARCH = "x86_64"
source "$BR2_BASE_DIR/.br2-external.in.menus"
config PARSED
	string
	option env="PARSED"
`

// runVersion is a Run that answers like the helpers, with the
// externals' version (git) given.
func runVersion(ext string) func(dir, name string, args ...string) (string, error) {
	return func(dir, name string, args ...string) (string, error) {
		switch {
		case name == "gcc" && len(args) == 1 && args[0] == "-v":
			return "Target: x86_64-linux-gnu", nil
		case name == "gcc":
			return "gcc (Debian 12.2.0-14) 12.2.0", nil
		case len(args) == 1:
			return ext, nil
		}
		return "2099.01-7-g1234567", nil
	}
}

// TestOpenLate: Open reads the tree while the helpers still run (their
// answers wait until the parser has reached the tree's last symbol), and
// every symbol ends up with the value the helper computed, as with
// Prepare and conf: the versions, HOSTARCH and HOST_GCC_VERSION, and an
// external's version though the fragments a previous run left carry an
// older one (they are rewritten with the new one).
func TestOpenLate(t *testing.T) {
	top := fakeTree(t)
	os.WriteFile(filepath.Join(top, "Config.in"), []byte(lateTree), 0o644)
	ext := fakeExternal(t, "CUBE")
	os.WriteFile(filepath.Join(ext, "Config.in"), []byte(`config CUBE_VERSION_SEEN
	string "version seen"
	default BR2_EXTERNAL_CUBE_VERSION
config CUBE_GCC12
	bool "gcc 12"
	default y if BR2_HOST_GCC_AT_LEAST_12
`), 0o644)
	os.WriteFile(filepath.Join(ext, "configs", "a_defconfig"), []byte("BR2_HOST_X86=y\n"), 0o644)
	out := filepath.Join(t.TempDir(), "o")
	parsedEnv := func(n string) (string, bool) { return "y", n == "PARSED" }
	if _, err := Prepare(top, out, []string{ext}, Options{Run: runVersion("-gold"), LookupEnv: parsedEnv}); err != nil {
		t.Fatal(err)
	}

	parsed := make(chan struct{})
	var once sync.Once
	var early atomic.Int32 // helpers that answered before the parse ended
	slow := func(dir, name string, args ...string) (string, error) {
		select {
		case <-parsed:
		case <-time.After(30 * time.Second): // Open waited for the helpers first
			early.Add(1)
		}
		return runVersion("-gnew-dirty")(dir, name, args...)
	}
	lookup := func(n string) (string, bool) {
		if n == "PARSED" {
			once.Do(func() { close(parsed) })
		}
		return parsedEnv(n)
	}
	w := &workspace.Workspace{BuildrootDir: top, OutputDir: out, ExternalDir: ext}
	s, err := Open(w, OpenOptions{Defconfig: "a_defconfig", Prepare: Options{Run: slow, LookupEnv: lookup}})
	if err != nil {
		t.Fatal(err)
	}
	if n := early.Load(); n > 0 {
		t.Errorf("%d helpers were waited for before the tree was parsed", n)
	}
	if got := s.K.Title(); got != "Buildroot 2099.01-7-g1234567 Configuration" {
		t.Errorf("title %q", got)
	}
	for name, want := range map[string]string{
		"BR2_VERSION": "2099.01-7-g1234567", "BR2_HOSTARCH": "x86_64", "BR2_HOST_GCC_VERSION": "12",
		"BR2_HOST_GCC_AT_LEAST_12": "y", "BR2_HOST_X86": "y",
		"BR2_EXTERNAL_CUBE_VERSION": "-gnew-dirty", "CUBE_VERSION_SEEN": "-gnew-dirty", "CUBE_GCC12": "y",
	} {
		if got := value(s.K, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if v := s.Env.Externals[0].Version; v != "-gnew-dirty" {
		t.Errorf("external version %q", v)
	}

	// The same as make's way: every variable first, then conf.
	ref := filepath.Join(t.TempDir(), "ref")
	env, err := Prepare(top, ref, []string{ext}, Options{Run: runVersion("-gnew-dirty"), LookupEnv: parsedEnv})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range env.fragments() {
		if got, _ := os.ReadFile(filepath.Join(out, name)); string(got) != want {
			t.Errorf("%s after Open:\n%s\nwant:\n%s", name, got, want)
		}
	}
	def := filepath.Join(ext, "configs", "a_defconfig")
	want := confDefconfig(t, top, def, env)
	if _, got, _ := s.SaveData(); string(got) != string(want) {
		t.Errorf("the session's .config differs from conf's:\n%s\n---\n%s", got, want)
	}
}

// confDefconfig runs conf --defconfig=def in top with env's variables (and
// BR2_DEFCONFIG=def, as make does) and returns the .config it wrote.
func confDefconfig(t *testing.T, top, def string, env *Env) []byte {
	t.Helper()
	var se bytes.Buffer
	if rc := kconfig.RunConf("conf", []string{"--defconfig=" + def, "Config.in"}, kconfig.ConfIO{Dir: top, Stdout: io.Discard, Stderr: &se,
		LookupEnv: func(n string) (string, bool) {
			if n == "BR2_DEFCONFIG" {
				return def, true
			}
			return env.LookupEnv(n)
		}}); rc != 0 {
		t.Fatalf("conf --defconfig: %s", se.String())
	}
	want, _ := os.ReadFile(env.ConfigFile())
	return want
}

func value(k *kconfig.Kconfig, name string) string {
	if sym := k.Lookup(name); sym != nil {
		return sym.Value()
	}
	return "<undefined>"
}

// TestOpenLateBuildroot: on Buildroot's tree, a session whose helpers
// answer late, over fragments an older run left, saves the .config conf
// writes with every variable known first.
func TestOpenLateBuildroot(t *testing.T) {
	br := testenv.BuildrootDir(t)
	ext := copyCube(t)
	out := filepath.Join(t.TempDir(), "out")
	if _, err := Prepare(br, out, []string{ext}, Options{Run: runVersion("-gold")}); err != nil {
		t.Fatal(err)
	}
	w := &workspace.Workspace{BuildrootDir: br, OutputDir: out, ExternalDir: ext}
	s, err := Open(w, OpenOptions{Prepare: Options{Run: runVersion("-gnew-dirty")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := value(s.K, "BR2_EXTERNAL_CUBE_VERSION"); got != "-gnew-dirty" {
		t.Errorf("BR2_EXTERNAL_CUBE_VERSION = %q", got)
	}
	env, err := Prepare(br, filepath.Join(t.TempDir(), "ref"), []string{ext}, Options{Run: runVersion("-gnew-dirty")})
	if err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(ext, "configs", "cube_defconfig")
	want := confDefconfig(t, br, def, env)
	if _, got, _ := s.SaveData(); string(got) != string(want) {
		t.Error("the session's .config differs from conf's")
	}
	if !bytes.Contains(want, []byte("\nBR2_EXTERNAL_CUBE_VERSION=\"-gnew-dirty\"\n")) {
		t.Error("conf's .config lacks the external's version")
	}
	for name, data := range env.fragments() {
		if got, _ := os.ReadFile(filepath.Join(out, name)); string(got) != data {
			t.Errorf("%s after Open differs from Prepare's", name)
		}
	}
}
