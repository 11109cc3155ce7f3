package brenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
