package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// copyTree copies the upstream Cube external tree (shared test vectors)
// so a test can edit it.
func copyCubeTree(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testenv.SharedDir(t), "testvectors", "kconfig", "upstream-cube-external")
	dst := filepath.Join(t.TempDir(), "cube")
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestStandaloneGetSet(t *testing.T) {
	t.Setenv("BUILDROOT_DIR", "")
	ext := copyCubeTree(t)
	def := filepath.Join(ext, "configs", "cube_defconfig")
	orig, _ := os.ReadFile(def)

	code, out, errOut := runCLI(t, "--external", ext, "get", "BR2_PACKAGE_CUBE_AGENT_PORT")
	if code != exitOK || out != "7001\n" {
		t.Fatalf("get: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "--external", ext, "get", "PACKAGE_OLLAMA", "PACKAGE_VLLM")
	if code != exitOK || out != "BR2_PACKAGE_OLLAMA=y\nBR2_PACKAGE_VLLM=n\n" {
		t.Fatalf("get two: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "--external", ext, "get", "--explain", "PACKAGE_VLLM")
	if code != exitOK || !strings.Contains(out, "It is hidden because these dependencies are not met") {
		t.Fatalf("get --explain: %d %q", code, out)
	}

	code, out, errOut = runCLI(t, "--external", ext, "set", "PACKAGE_CUBE_AGENT_PORT=7002", "PACKAGE_CUBE_AGENT_BACKEND_VLLM=y")
	if code != exitOK {
		t.Fatalf("set: %d %q", code, errOut)
	}
	for _, want := range []string{"BR2_PACKAGE_CUBE_AGENT_PORT: 7001 -> 7002\n", "BR2_PACKAGE_VLLM: (absent) -> y\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("set output %q lacks %q", out, want)
		}
	}
	now, _ := os.ReadFile(def)
	var changed []string
	ol := strings.Split(string(orig), "\n")
	for i, l := range strings.Split(string(now), "\n") {
		if i >= len(ol) || l != ol[i] {
			changed = append(changed, l)
		}
	}
	want := []string{"BR2_PACKAGE_CUBE_AGENT_PORT=\"7002\"", "# BR2_PACKAGE_CUBE_AGENT_BACKEND_OLLAMA is not set", "BR2_PACKAGE_CUBE_AGENT_BACKEND_VLLM=y"}
	if strings.Join(changed, "\n") != strings.Join(want, "\n") {
		t.Errorf("changed lines:\n%s\nwant:\n%s", strings.Join(changed, "\n"), strings.Join(want, "\n"))
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"set", "BR2_TOOLCHAIN_HAS_THREADS=n"}, "is a Buildroot option"},
		{[]string{"set", "PACKAGE_CUBE_AGENT_TARGET_URL=x"}, "it is hidden"},
		{[]string{"set", "NOPE"}, "is not SYMBOL=VALUE"},
		{[]string{"get", "PACKAGE_OLAMA"}, "unknown symbol PACKAGE_OLAMA"},
		{[]string{"defconfig"}, "defconfig needs a Buildroot checkout"},
		{[]string{"savedefconfig"}, "needs a Buildroot checkout"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--external", ext}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "hint:") {
			t.Errorf("%v: exit %d, stderr %q, want usage error with %q and a hint", tc.args, code, errOut, tc.want)
		}
	}
	if again, _ := os.ReadFile(def); string(again) != string(now) {
		t.Error("a refused set changed the defconfig")
	}
}

func TestConfCommand(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Kconfig"), []byte("config A\n\tbool \"a\"\n\tdefault y\n"), 0o644)
	t.Setenv("BR2_CONFIG", filepath.Join(dir, ".config"))
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(dir)
	code, out, errOut := runCLI(t, "conf", "--olddefconfig", "Kconfig")
	if code != exitOK || !strings.Contains(out, "configuration written to") {
		t.Fatalf("conf: %d %q %q", code, out, errOut)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ".config"))
	if !strings.Contains(string(data), "\nA=y\n") {
		t.Errorf(".config:\n%s", data)
	}
	if code, _, _ := runCLI(t, "conf", "--frob", "Kconfig"); code != 1 {
		t.Errorf("bad option: exit %d, want conf's 1", code)
	}
}

// TestWorkspaceCommandsMatchMake: with a Buildroot checkout, defconfig and
// savedefconfig give what `make cube_defconfig` and `make savedefconfig`
// give, byte for byte (make savedefconfig is slow: skipped with -short).
func TestWorkspaceCommandsMatchMake(t *testing.T) {
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "make", "gcc", "git")
	ext := copyCubeTree(t)
	mkOut := filepath.Join(t.TempDir(), "make-out")
	ourOut := filepath.Join(t.TempDir(), "our-out")
	mk := exec.Command("make", "-s", "O="+mkOut, "BR2_EXTERNAL="+ext, "cube_defconfig")
	mk.Dir = br
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make cube_defconfig: %v\n%s", err, out)
	}
	code, _, errOut := runCLI(t, "--buildroot", br, "--output", ourOut, "--external", ext, "defconfig", "cube_defconfig")
	if code != exitOK {
		t.Fatalf("defconfig: %d %s", code, errOut)
	}
	want, _ := os.ReadFile(filepath.Join(mkOut, ".config"))
	got, _ := os.ReadFile(filepath.Join(ourOut, ".config"))
	if string(want) != string(got) || len(got) == 0 {
		t.Fatalf(".config differs from make's:\n%s", firstLineDiff(string(want), string(got)))
	}

	code, out, errOut := runCLI(t, "--buildroot", br, "--output", ourOut, "--external", ext, "set", "PACKAGE_CUBE_AGENT_PORT=7100")
	if code != exitOK || !strings.Contains(out, "7001 -> 7100") {
		t.Fatalf("set: %d %q %q", code, out, errOut)
	}
	if code, out, _ := runCLI(t, "--buildroot", br, "--output", ourOut, "--external", ext, "get", "PACKAGE_CUBE_AGENT_PORT"); code != 0 || out != "7100\n" {
		t.Fatalf("get after set: %q", out)
	}
	if _, err := os.Stat(filepath.Join(ourOut, ".config.old")); err != nil {
		t.Error("no .config.old after set")
	}
	// the same change through make's .config, then savedefconfig on both
	cfg := strings.Replace(string(want), "BR2_PACKAGE_CUBE_AGENT_PORT=\"7001\"", "BR2_PACKAGE_CUBE_AGENT_PORT=\"7100\"", 1)
	os.WriteFile(filepath.Join(mkOut, ".config"), []byte(cfg), 0o644)

	start := time.Now()
	ourDef := filepath.Join(t.TempDir(), "cube_defconfig")
	if code, _, errOut := runCLI(t, "--buildroot", br, "--output", ourOut, "--external", ext, "savedefconfig", ourDef); code != 0 {
		t.Fatalf("savedefconfig: %s", errOut)
	}
	t.Logf("cube-hal savedefconfig took %v", time.Since(start))
	if testing.Short() {
		return
	}
	mkDef := filepath.Join(t.TempDir(), "cube_defconfig")
	start = time.Now()
	mk = exec.Command("make", "-s", "O="+mkOut, "BR2_DEFCONFIG="+mkDef, "savedefconfig")
	mk.Dir = br
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make savedefconfig: %v\n%s", err, out)
	}
	t.Logf("make savedefconfig took %v", time.Since(start))
	w, _ := os.ReadFile(mkDef)
	g, _ := os.ReadFile(ourDef)
	if string(w) != string(g) {
		t.Errorf("savedefconfig differs from make's:\n%s", firstLineDiff(string(w), string(g)))
	}
}

func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n  make: " + x + "\n  ours: " + y
		}
	}
	return "(same)"
}

// TestSecretsStayOutOfDefconfigs: the certs token, set in standalone mode
// and in Buildroot mode, is masked in every output, never written to a
// defconfig (git may track those), kept in .config and the private
// secrets file, and restored by a later `cube-hal defconfig`.
func TestSecretsStayOutOfDefconfigs(t *testing.T) {
	const token, secret = "BR2_PACKAGE_CUBE_AGENT_CERTS_TOKEN", "s3cr3t-T0ken"
	noSecret := func(what, s string) {
		t.Helper()
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the secret: %q", what, s)
		}
	}
	treeClean := func(dir string) {
		t.Helper()
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				if data, _ := os.ReadFile(p); strings.Contains(string(data), secret) {
					t.Errorf("%s (tracked) contains the secret", p)
				}
			}
			return nil
		})
	}
	secretsFile := func(state string) {
		t.Helper()
		p := filepath.Join(state, "secrets.config")
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("secrets file %s: %v", p, err)
		}
		if data, _ := os.ReadFile(p); !strings.Contains(string(data), token+"=\""+secret+"\"") {
			t.Errorf("secrets file:\n%s", data)
		}
	}

	t.Run("standalone", func(t *testing.T) {
		t.Setenv("BUILDROOT_DIR", "")
		ext, state := copyCubeTree(t), t.TempDir()
		g := []string{"--external", ext, "--state-dir", state}
		code, out, errOut := runCLI(t, append(g, "set", token+"="+secret)...)
		if code != exitOK || !strings.Contains(out, "secret, kept in") {
			t.Fatalf("set: %d %q %q", code, out, errOut)
		}
		noSecret("set", out+errOut)
		treeClean(ext)
		secretsFile(state)
		if code, out, _ = runCLI(t, append(g, "get", token)...); code != exitOK || out != "********\n" {
			t.Errorf("get: %d %q", code, out)
		}
		if code, out, _ = runCLI(t, append(g, "get", "--reveal", token)...); code != exitOK || out != secret+"\n" {
			t.Errorf("get --reveal: %d %q", code, out)
		}
		code, out, _ = runCLI(t, append(g, "get", "--explain", token)...)
		noSecret("get --explain", out)
	})

	t.Run("buildroot", func(t *testing.T) {
		br := testenv.BuildrootDir(t)
		testenv.Tool(t, "gcc", "git")
		ext, state, outDir := copyCubeTree(t), t.TempDir(), filepath.Join(t.TempDir(), "out")
		g := []string{"--buildroot", br, "--output", outDir, "--external", ext, "--state-dir", state}
		if code, _, errOut := runCLI(t, append(g, "defconfig")...); code != exitOK {
			t.Fatalf("defconfig: %s", errOut)
		}
		code, out, errOut := runCLI(t, append(g, "set", token+"="+secret)...)
		if code != exitOK {
			t.Fatalf("set: %d %q", code, errOut)
		}
		noSecret("set", out+errOut)
		cfg := filepath.Join(outDir, ".config")
		if data, _ := os.ReadFile(cfg); !strings.Contains(string(data), token+"=\""+secret+"\"") {
			t.Error(".config lacks the token")
		}
		secretsFile(state)
		code, out, errOut = runCLI(t, append(g, "savedefconfig")...)
		if code != exitOK || !strings.Contains(out, "not in "+filepath.Join(ext, "configs", "cube_defconfig")) {
			t.Fatalf("savedefconfig: %d %q %q", code, out, errOut)
		}
		noSecret("savedefconfig", out+errOut)
		treeClean(ext)
		// A fresh defconfig load restores the token from the secrets file.
		code, out, errOut = runCLI(t, append(g, "defconfig")...)
		if code != exitOK || !strings.Contains(out, "restored from") {
			t.Fatalf("defconfig again: %d %q %q", code, out, errOut)
		}
		noSecret("defconfig", out+errOut)
		if data, _ := os.ReadFile(cfg); !strings.Contains(string(data), token+"=\""+secret+"\"") {
			t.Error("defconfig did not restore the token")
		}
		if code, out, _ = runCLI(t, append(g, "get", token)...); out != "********\n" {
			t.Errorf("get: %d %q", code, out)
		}
	})
}
