// Package testenv decides what a test does when a real tool it needs
// (qemu-system-x86_64, kconfig-conf, tmux, ssh, shellcheck, ...) or a
// fixture is missing: under plain `go test` it skips with the reason; when
// CUBE_HAL_REQUIRE_TOOLS=1 (set by .ci/run, which installs every tool) the
// same absence fails the test, so CI never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireToolsEnv is the variable that turns "skip when missing" into a failure.
const RequireToolsEnv = "CUBE_HAL_REQUIRE_TOOLS"

// Strict reports whether missing tools must fail tests (CI).
func Strict() bool { return os.Getenv(RequireToolsEnv) == "1" }

// Missing skips the test (or fails it, in strict mode) because of what.
func Missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if Strict() {
		tb.Fatalf("required by this test but missing ("+RequireToolsEnv+"=1): "+format, args...)
	}
	tb.Skipf("skipped, missing: "+format, args...)
}

// Tool returns the path of each named program, skipping (or failing in
// strict mode) when one is not on PATH.
func Tool(tb testing.TB, names ...string) []string {
	tb.Helper()
	var paths []string
	for _, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			Missing(tb, "program %q not on PATH (see the README's list of optional tools)", n)
			return nil
		}
		paths = append(paths, p)
	}
	return paths
}

// File returns path if it exists, else skips (or fails in strict mode).
func File(tb testing.TB, path, why string) string {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(tb, "%s (%s)", path, why)
	}
	return path
}

// BuildrootDir returns $BUILDROOT_DIR or skips. Buildroot trees are never
// required in CI (they are not ours to ship), so this always skips when
// unset, even in strict mode.
func BuildrootDir(tb testing.TB) string {
	tb.Helper()
	d := os.Getenv("BUILDROOT_DIR")
	if d == "" {
		tb.Skip("skipped: BUILDROOT_DIR not set (a Buildroot checkout to compare against)")
	}
	if _, err := os.Stat(filepath.Join(d, "Config.in")); err != nil {
		tb.Fatalf("BUILDROOT_DIR=%s is not a Buildroot tree: %v", d, err)
	}
	return d
}

// RepoRoot returns the cube-hal checkout root (the directory with go.mod).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the repository")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedDir returns ../shared beside the checkout (facts and published test
// vectors), skipping or failing (strict) when it is absent.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	d := filepath.Join(RepoRoot(tb), "..", "shared")
	if env := os.Getenv("CUBE_HAL_SHARED_DIR"); env != "" {
		d = env
	}
	return File(tb, d, "the shared test vectors beside the checkout; set CUBE_HAL_SHARED_DIR to point elsewhere")
}
