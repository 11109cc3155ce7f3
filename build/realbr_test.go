package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

// With a real Buildroot tree and no network, a build of a small defconfig
// fails at its first download; the runner names that package and the
// download step, with the network hint and the log. The download directory
// is a fresh temporary one, so nothing is cached.
func TestRealBuildrootFailsAtFirstDownload(t *testing.T) {
	br := testenv.BuildrootDir(t)
	testenv.Tool(t, "make", "gcc", "g++", "wget", "rsync", "bc", "cpio", "unzip", "perl", "file", "patch")
	out := t.TempDir()
	ws := &workspace.Workspace{BuildrootDir: br, OutputDir: out}
	env := append(os.Environ(), "BR2_DL_DIR="+t.TempDir())

	b, err := Start(Options{Workspace: ws, Env: env, Targets: []string{"qemu_x86_64_defconfig"}})
	if err != nil {
		t.Fatal(err)
	}
	if s := b.Wait(); s.Phase != Succeeded || !fileExists(ws.ConfigFile()) {
		t.Fatalf("defconfig: %s, %+v", s.Phase, s.Failure)
	}

	b, err = Start(Options{Workspace: ws, Env: env, Cols: 120, Rows: 40})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Done():
	case <-time.After(10 * time.Minute):
		b.Kill()
		<-b.Done()
		t.Fatal("the build did not fail within 10 minutes: is there a network here? (this test expects none)")
	}
	s := b.Snapshot()
	if s.Phase != Failed || s.ExitCode == 0 {
		t.Fatalf("phase %s exit %d", s.Phase, s.ExitCode)
	}
	if s.Total < 50 || s.Done < 1 {
		t.Errorf("progress %d/%d: want the package list of the defconfig (about 61) and host-skeleton built", s.Done, s.Total)
	}
	f := s.Failure
	if f == nil {
		t.Fatal("no failure report")
	}
	t.Logf("failed: %s %s step %s (%s), cause %s\n  make: %s\n  hint: %s\n  lines:\n    %s",
		f.Package, f.Version, f.Step, f.Label, f.Cause, f.MakeError, f.Hint, strings.Join(f.Lines, "\n    "))
	if f.Package == "" || f.Step != "download" || f.Label != "Downloading" || f.Cause != CauseNetwork {
		t.Errorf("failure %s/%s (%s), cause %q; want a package's download step, cause network", f.Package, f.Step, f.Label, f.Cause)
	}
	if !strings.Contains(f.MakeError, "/build/"+f.Package+"-") || !strings.Contains(f.MakeError, ".stamp_downloaded] Error") {
		t.Errorf("make error %q does not name %s's download stamp", f.MakeError, f.Package)
	}
	if !strings.Contains(strings.Join(f.Lines, "\n"), "unable to resolve host address") {
		t.Errorf("the report's lines do not show wget's error:\n%s", strings.Join(f.Lines, "\n"))
	}
	if f.LogPath != filepath.Join(out, LogName) {
		t.Errorf("log path %q", f.LogPath)
	}
	log, err := os.ReadFile(f.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), ">>> "+f.Package+" ") || !strings.Contains(string(log), "failing package "+f.Package+", step download") {
		t.Errorf("the log lacks the package's >>> line or the failure trailer")
	}
	// The user's own instrumentation scripts (none here) and cube-hal's.
	if cmd := strings.Join(s.Command, " "); !strings.Contains(cmd, "BR2_INSTRUMENTATION_SCRIPTS=/") || !strings.Contains(cmd, "O="+out) {
		t.Errorf("command %q", cmd)
	}
	if left := sessionProcs(s.PID); len(left) > 0 {
		t.Errorf("processes left: %+v", left)
	}
}
