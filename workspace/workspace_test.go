package workspace

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ultravioletrs/cube-hal/buildroot"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func mkfile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeBuildroot makes the two files that identify a Buildroot tree.
func fakeBuildroot(t *testing.T) string {
	d := t.TempDir()
	mkfile(t, filepath.Join(d, "Config.in"), "mainmenu \"Buildroot\"\n")
	mkfile(t, filepath.Join(d, "Makefile"), "all:\n")
	return d
}

// fakeRepo makes a cube-hal checkout: go.mod, buildroot/external.desc,
// agent/cmd/cube-agent.
func fakeRepo(t *testing.T) string {
	d := t.TempDir()
	mkfile(t, filepath.Join(d, "go.mod"), "module github.com/ultravioletrs/cube-hal\n\ngo 1.26\n")
	mkfile(t, filepath.Join(d, "buildroot", "external.desc"), "name: CUBE\n")
	mkfile(t, filepath.Join(d, "agent", "cmd", "cube-agent", "main.go"), "package main\n")
	return d
}

var testTree = fstest.MapFS{
	"external.desc":            {Data: []byte("name: CUBE\ndesc: test\n")},
	"Config.in":                {Data: []byte("menu \"Cube\"\nendmenu\n")},
	"board/cube/post-build.sh": {Data: []byte("#!/bin/sh\nexit 0\n")},
	"configs/cube_defconfig":   {Data: []byte("BR2_x86_64=y\n")},
}

func TestDefaultsOutsideARepo(t *testing.T) {
	cwd, home := t.TempDir(), t.TempDir()
	w, err := Resolve(Options{Cwd: cwd, Getenv: env(map[string]string{"HOME": home}), Embedded: testTree, EmbeddedDigest: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"output":   filepath.Join(cwd, "output"),
		"state":    filepath.Join(home, ".local/state/cube-hal"),
		"cache":    filepath.Join(home, ".cache/cube-hal"),
		"external": filepath.Join(home, ".cache/cube-hal/external-d1"),
		"overlay":  filepath.Join(home, ".local/state/cube-hal/overlay"),
	}
	got := map[string]string{"output": w.OutputDir, "state": w.StateDir, "cache": w.CacheDir, "external": w.ExternalDir, "overlay": w.OverlayDir}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	if w.RepoDir != "" || !w.Standalone() || w.ExternalFrom != FromBuiltin || w.OverlayFrom != FromDefault || w.BuildrootFrom != FromNotFound {
		t.Errorf("workspace %+v", w)
	}
	// The built-in tree was written, scripts executable.
	if b, err := os.ReadFile(filepath.Join(w.ExternalDir, "configs/cube_defconfig")); err != nil || string(b) != "BR2_x86_64=y\n" {
		t.Errorf("cube_defconfig: %q %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(w.ExternalDir, "board/cube/post-build.sh")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("post-build.sh mode: %v %v", st, err)
	}
	if st, err := os.Stat(filepath.Join(w.ExternalDir, "Config.in")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("Config.in mode: %v %v", st, err)
	}
	// Standalone and no overlay: both reported with their fix.
	whats := map[string]string{}
	for _, p := range w.Problems {
		whats[p.What] = p.Fix
	}
	if !strings.Contains(whats["Buildroot checkout"], "git clone --depth 1 --branch "+PinnedBuildrootRelease) {
		t.Errorf("no clone command in problems: %+v", w.Problems)
	}
	if whats["overlay"] != "cube-hal certs" {
		t.Errorf("no overlay problem: %+v", w.Problems)
	}
}

func TestXDGDirs(t *testing.T) {
	cwd, x := t.TempDir(), t.TempDir()
	w, err := Resolve(Options{Cwd: cwd, Embedded: testTree, EmbeddedDigest: "d",
		Getenv: env(map[string]string{"HOME": "/nonexistent", "XDG_STATE_HOME": x + "/state", "XDG_CACHE_HOME": x + "/cache"})})
	if err != nil {
		t.Fatal(err)
	}
	if w.StateDir != x+"/state/cube-hal" || w.CacheDir != x+"/cache/cube-hal" || w.ExternalDir != x+"/cache/cube-hal/external-d" {
		t.Errorf("state %s cache %s external %s", w.StateDir, w.CacheDir, w.ExternalDir)
	}
}

func TestInsideTheRepo(t *testing.T) {
	repo := fakeRepo(t)
	sub := filepath.Join(repo, "agent", "cmd")
	w, err := Resolve(Options{Cwd: sub, Getenv: env(map[string]string{"HOME": t.TempDir()})})
	if err != nil {
		t.Fatal(err)
	}
	if w.RepoDir != repo || w.ExternalDir != filepath.Join(repo, "buildroot") || w.OverlayDir != filepath.Join(repo, "overlay") ||
		w.ExternalFrom != FromRepo || w.OverlayFrom != FromRepo || w.OutputDir != filepath.Join(sub, "output") {
		t.Errorf("workspace %+v", w)
	}
	// Another module's checkout with the same layout is not this repo.
	mkfile(t, filepath.Join(repo, "go.mod"), "module example.com/other\n")
	w, err = Resolve(Options{Cwd: repo, Getenv: env(map[string]string{"HOME": t.TempDir()}), Embedded: testTree, EmbeddedDigest: "x"})
	if err != nil || w.RepoDir != "" || w.ExternalFrom != FromBuiltin {
		t.Errorf("other module: %+v %v", w, err)
	}
}

// The real repository this test runs in.
func TestThisRepository(t *testing.T) {
	root := testenv.RepoRoot(t)
	w, err := Resolve(Options{Cwd: filepath.Join(root, "workspace"), Getenv: env(map[string]string{"HOME": t.TempDir()})})
	if err != nil {
		t.Fatal(err)
	}
	if w.RepoDir != root || w.ExternalDir != filepath.Join(root, "buildroot") {
		t.Errorf("in this repository: %+v", w)
	}
}

func TestFlagsAndEnvironment(t *testing.T) {
	br, br2, ext := fakeBuildroot(t), fakeBuildroot(t), t.TempDir()
	mkfile(t, filepath.Join(ext, "external.desc"), "name: MINE\n")
	cwd := t.TempDir()
	w, err := Resolve(Options{
		Buildroot: br, Output: "out", External: ext, Overlay: "ov", StateDir: "st", Cwd: cwd,
		Getenv: env(map[string]string{"BUILDROOT_DIR": br2, "HOME": t.TempDir()}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.BuildrootDir != br || w.BuildrootFrom != FromFlag || w.OutputDir != filepath.Join(cwd, "out") ||
		w.ExternalDir != ext || w.OverlayDir != filepath.Join(cwd, "ov") || w.StateDir != filepath.Join(cwd, "st") {
		t.Errorf("flags: %+v", w)
	}
	if err := w.RequireBuildroot(); err != nil {
		t.Errorf("RequireBuildroot with a checkout: %v", err)
	}
	w, err = Resolve(Options{Cwd: cwd, Embedded: testTree, EmbeddedDigest: "e",
		Getenv: env(map[string]string{"BUILDROOT_DIR": br2, "HOME": t.TempDir()})})
	if err != nil || w.BuildrootDir != br2 || w.BuildrootFrom != FromEnv {
		t.Errorf("environment: %+v %v", w, err)
	}
	home := t.TempDir()
	w, err = Resolve(Options{Output: "~/out", Cwd: cwd, Embedded: testTree, EmbeddedDigest: "e", Getenv: env(map[string]string{"HOME": home})})
	if err != nil || w.OutputDir != filepath.Join(home, "out") {
		t.Errorf("~ expansion: %+v %v", w, err)
	}
}

func TestBadValuesNameTheFlag(t *testing.T) {
	notBR, file, noName := t.TempDir(), filepath.Join(t.TempDir(), "f"), t.TempDir()
	mkfile(t, file, "x")
	mkfile(t, filepath.Join(noName, "external.desc"), "desc: no name\n")
	for _, tc := range []struct {
		name string
		o    Options
		env  map[string]string
		flag string
		err  string
	}{
		{"buildroot not a tree", Options{Buildroot: notBR}, nil, "--buildroot", "not a Buildroot tree"},
		{"BUILDROOT_DIR not a tree", Options{}, map[string]string{"BUILDROOT_DIR": notBR}, "BUILDROOT_DIR", "not a Buildroot tree"},
		{"output is a file", Options{Output: file}, nil, "--output", "not a directory"},
		{"external without desc", Options{External: notBR}, nil, "--external", "no external.desc"},
		{"external desc without name", Options{External: noName}, nil, "--external", "no name"},
		{"overlay is a file", Options{Overlay: file}, nil, "--overlay", "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Cwd = t.TempDir()
			e := map[string]string{"HOME": t.TempDir()}
			for k, v := range tc.env {
				e[k] = v
			}
			tc.o.Getenv = env(e)
			tc.o.Embedded, tc.o.EmbeddedDigest = testTree, "z"
			_, err := Resolve(tc.o)
			var fe *FlagError
			if !errors.As(err, &fe) {
				t.Fatalf("err %v, want a *FlagError", err)
			}
			if fe.Flag != tc.flag || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.flag) || fe.Fix == "" {
				t.Errorf("err %q (flag %s, fix %q), want %s and %q", err, fe.Flag, fe.Fix, tc.flag, tc.err)
			}
		})
	}
}

func TestRequireBuildroot(t *testing.T) {
	w := &Workspace{}
	err := w.RequireBuildroot()
	if !errors.Is(err, ErrNoBuildroot) {
		t.Fatalf("err %v, want ErrNoBuildroot", err)
	}
	var me *MissingError
	if !errors.As(err, &me) || !strings.Contains(me.Hint(), CloneCommand()) || strings.Contains(err.Error(), "\n") {
		t.Errorf("err %q hint %q", err, me.Hint())
	}
	if CloneCommand() != "git clone --depth 1 --branch "+PinnedBuildrootRelease+" https://gitlab.com/buildroot.org/buildroot.git" {
		t.Errorf("CloneCommand() = %q", CloneCommand())
	}
}

// The pinned release must be a real tag: checked against $BUILDROOT_DIR
// when it is a git checkout with tags.
func TestPinnedReleaseIsATag(t *testing.T) {
	br := testenv.BuildrootDir(t)
	git := testenv.Tool(t, "git")[0]
	if out, err := exec.Command(git, "-C", br, "tag", "--list", "20*").Output(); err != nil || len(out) == 0 {
		t.Skipf("skipped: %s has no release tags (not a git clone, or a shallow one)", br)
	}
	out, err := exec.Command(git, "-C", br, "rev-parse", "--verify", "--quiet", "refs/tags/"+PinnedBuildrootRelease).CombinedOutput()
	if err != nil {
		t.Errorf("%s has release tags but not %s: %v %s", br, PinnedBuildrootRelease, err, out)
	}
}

func TestWriteTree(t *testing.T) {
	cache := t.TempDir()
	dir := filepath.Join(cache, "external-abc")
	// Many racing writers: one copy, complete, no temporaries left behind.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = WriteTree(testTree, dir)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 || entries[0].Name() != "external-abc" {
		t.Errorf("cache holds %v, want only external-abc", entries)
	}
	if err := fstest.TestFS(os.DirFS(dir), "external.desc", "Config.in", "board/cube/post-build.sh", "configs/cube_defconfig"); err != nil {
		t.Error(err)
	}
	// An existing copy is reused as is (its name says its content).
	stamp := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "external.desc"), stamp, stamp)
	if _, err := WriteTree(fstest.MapFS{"external.desc": {Data: []byte("name: OTHER\n")}}, dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "external.desc")); !strings.Contains(string(b), "CUBE") {
		t.Errorf("existing copy rewritten: %q", b)
	}
	// A tree without external.desc is refused.
	if _, err := WriteTree(fstest.MapFS{"Config.in": {}}, filepath.Join(cache, "bad")); err == nil {
		t.Error("a tree without external.desc was written")
	}
	// An unwritable cache is an error, not a half-written tree.
	ro := filepath.Join(t.TempDir(), "ro")
	mkfile(t, ro, "a file where a directory should be")
	if _, err := WriteTree(testTree, filepath.Join(ro, "external-x")); err == nil {
		t.Error("writing under a file succeeded")
	}
}

// The real built-in tree, end to end.
func TestBuiltinTree(t *testing.T) {
	cwd, home := t.TempDir(), t.TempDir()
	w, err := Resolve(Options{Cwd: cwd, Getenv: env(map[string]string{"HOME": home})})
	if err != nil {
		t.Fatal(err)
	}
	if w.ExternalDir != filepath.Join(home, ".cache/cube-hal/external-"+buildroot.Digest()) {
		t.Errorf("external %s", w.ExternalDir)
	}
	name, err := externalName(w.ExternalDir)
	if err != nil || name != "CUBE" {
		t.Errorf("external.desc name %q, %v", name, err)
	}
	n := 0
	fs.WalkDir(buildroot.Tree(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
			if _, err := os.Stat(filepath.Join(w.ExternalDir, p)); err != nil {
				t.Errorf("%s not written: %v", p, err)
			}
		}
		return nil
	})
	if n == 0 {
		t.Error("the built-in tree is empty")
	}
}

func TestSourceDir(t *testing.T) {
	cache := t.TempDir()
	mod := filepath.Join(cache, "github.com", "ultravioletrs", "cube-hal@v0.3.0")
	mkfile(t, filepath.Join(mod, "go.mod"), "module github.com/ultravioletrs/cube-hal\n")
	mkfile(t, filepath.Join(mod, "agent", "cmd", "cube-agent", "main.go"), "package main\n")
	home := t.TempDir()
	gopath := filepath.Join(home, "go") // also the default GOPATH for HOME
	mkfile(t, filepath.Join(gopath, "pkg", "mod", "github.com", "ultravioletrs", "cube-hal@v0.4.0", "go.mod"), "module x\n")
	os.MkdirAll(filepath.Join(gopath, "pkg", "mod", "github.com", "ultravioletrs", "cube-hal@v0.4.0", "agent", "cmd", "cube-agent"), 0o755)

	for _, tc := range []struct {
		name, version string
		env           map[string]string
		want          string
	}{
		{"GOMODCACHE", "v0.3.0", map[string]string{"GOMODCACHE": cache}, mod},
		{"other version", "v0.2.0", map[string]string{"GOMODCACHE": cache}, ""},
		{"devel build", "(devel)", map[string]string{"GOMODCACHE": cache}, ""},
		{"GOPATH", "v0.4.0", map[string]string{"GOPATH": gopath + ":/other"}, filepath.Join(gopath, "pkg/mod/github.com/ultravioletrs/cube-hal@v0.4.0")},
		{"HOME/go", "v0.4.0", map[string]string{"HOME": home}, filepath.Join(gopath, "pkg/mod/github.com/ultravioletrs/cube-hal@v0.4.0")},
		{"nothing in HOME/go", "v0.4.0", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{"HOME": t.TempDir()}
			for k, v := range tc.env {
				e[k] = v
			}
			w, err := Resolve(Options{Cwd: t.TempDir(), Getenv: env(e), Version: tc.version, Embedded: testTree, EmbeddedDigest: "s"})
			if err != nil {
				t.Fatal(err)
			}
			if w.SourceDir != tc.want {
				t.Errorf("SourceDir = %q, want %q", w.SourceDir, tc.want)
			}
			missing := false
			for _, p := range w.Problems {
				missing = missing || p.What == "cube-hal source"
			}
			if missing != (tc.want == "") {
				t.Errorf("problems %+v", w.Problems)
			}
		})
	}
	repo := fakeRepo(t)
	if w, err := Resolve(Options{Cwd: repo, Getenv: env(map[string]string{"HOME": t.TempDir()})}); err != nil || w.SourceDir != repo {
		t.Errorf("in a checkout: %+v %v", w, err)
	}
}
