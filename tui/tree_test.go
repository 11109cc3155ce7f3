package tui

import (
	"path/filepath"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/kconfig"
)

// openTestTree loads testdata/tree (a small Buildroot-like base with the
// repository's Cube external tree under "Target packages") with the Kconfig
// engine, reads testdata/tree/cube_defconfig, and wraps it for the screen.
// Saves go to a temporary output directory.
func openTestTree(t *testing.T) (Engine, *kconfig.Kconfig) {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "tree"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TEST_VERSION": "1.0", "BR2_EXTERNAL_CUBE_PATH": filepath.Join(testenv.RepoRoot(t), "buildroot")}
	k, err := kconfig.Load("Config.in", kconfig.Options{Dir: dir, Quiet: true, LookupEnv: func(s string) (string, bool) {
		v, ok := env[s]
		return v, ok
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ReadDefconfig(filepath.Join(dir, "cube_defconfig")); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	return NewKconfigEngine(k, KconfigFiles{
		Source:        "testdata/tree/cube_defconfig",
		ConfigPath:    filepath.Join(out, "output", ".config"),
		DefconfigPath: filepath.Join(out, "configs", "cube_defconfig"),
	}), k
}
