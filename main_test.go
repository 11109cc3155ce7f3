package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/host/hosttest"
	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/workspace"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// Every subcommand has --help with an example, and it exits 0.
func TestEverySubcommandHasHelpWithExample(t *testing.T) {
	root := newRootCmd()
	cmds := root.Commands()
	if len(cmds) < 17 {
		t.Fatalf("only %d subcommands registered", len(cmds))
	}
	for _, c := range cmds {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			code, out, errOut := runCLI(t, c.Name(), "--help")
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, "Examples:") || !strings.Contains(out, "cube-hal") {
				t.Errorf("help has no example:\n%s", out)
			}
		})
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"doctor", "--no-such-flag"}, {"no-such-command"}, {"version", "extra"}} {
		code, _, errOut := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if len(lines) < 1 || !strings.HasPrefix(lines[0], "cube-hal: ") {
			t.Errorf("%v: stderr %q: want a 'cube-hal: ...' line", args, errOut)
		}
		if !strings.Contains(errOut, args[len(args)-1]) {
			t.Errorf("%v: stderr %q does not name the offending argument", args, errOut)
		}
	}
}

func TestBadWorkspaceFlagNamesIt(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "--buildroot", dir, "status")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, errOut)
	}
	if !strings.Contains(errOut, "--buildroot") || !strings.Contains(errOut, dir) {
		t.Errorf("stderr %q does not name --buildroot and the path", errOut)
	}
}

// useHost points doctor at a fake machine for one test.
func useHost(t *testing.T, m *hosttest.Machine) {
	old := doctorHost
	doctorHost = m.Host
	t.Cleanup(func() { doctorHost = old })
}

func TestDoctorExitCodes(t *testing.T) {
	ws := []string{"--output", t.TempDir(), "--state-dir", t.TempDir()}
	for _, tc := range []struct {
		name    string
		machine func(tb testing.TB) *hosttest.Machine
		args    []string
		code    int
		want    []string
	}{
		{"dev VM: warnings only", hosttest.PVMGuest, nil, exitOK,
			[]string{"  warn  KVM ", "kvm_pvm", "  pass  gcc ", "All required checks pass"}},
		{"no gcc", func(t testing.TB) *hosttest.Machine { return hosttest.PVMGuest(t).RemoveTool("gcc") }, nil, exitFailed,
			[]string{"  FAIL  gcc ", "fix: sudo apt-get install gcc", "1 required check(s) failed"}},
		{"no QEMU", func(t testing.TB) *hosttest.Machine { return hosttest.PVMGuest(t).RemoveTool("qemu-system-x86_64") }, nil, exitFailed,
			[]string{"  FAIL  QEMU ", "qemu-system-x86"}},
		{"full disk", func(t testing.TB) *hosttest.Machine { m := hosttest.PVMGuest(t); m.Avail = 5 << 30; return m }, nil, exitFailed,
			[]string{"  FAIL  disk space ", "5.0 GiB free"}},
		{"--require snp on the dev VM", hosttest.PVMGuest, []string{"--require", "snp"}, exitFailed,
			[]string{"  FAIL  SEV-SNP host ", "  FAIL  KVM "}},
		{"--require snp on an SNP host", hosttest.SNPHost, []string{"--require=snp,kvm"}, exitOK,
			[]string{"  pass  SEV-SNP host ", "  pass  KVM "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			useHost(t, tc.machine(t))
			code, out, errOut := runCLI(t, append(append(ws, "doctor"), tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q\n%s", code, tc.code, errOut, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if errOut != "" {
				t.Errorf("stderr %q: the report goes to stdout", errOut)
			}
		})
	}

	code, _, errOut := runCLI(t, append(ws, "doctor", "--require", "gpu")...)
	if code != exitUsage || !strings.Contains(errOut, "--require gpu") || !strings.Contains(errOut, "hint: use one of: kvm, snp, tdx") {
		t.Errorf("--require gpu: exit %d, stderr %q", code, errOut)
	}
}

func TestDoctorJSON(t *testing.T) {
	useHost(t, hosttest.PVMGuest(t).RemoveTool("wget"))
	code, out, _ := runCLI(t, "--output", t.TempDir(), "doctor", "--json")
	var r struct {
		OK     bool `json:"ok"`
		Failed int  `json:"failed"`
		Checks []struct {
			ID, Status, Fix string
			Required        bool
		} `json:"checks"`
		Host struct {
			QEMU struct{ Version struct{ Major, Minor int } } `json:"qemu"`
		} `json:"host"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != exitFailed || r.OK || r.Failed != 1 || r.Host.QEMU.Version.Major != 7 {
		t.Errorf("exit %d report %+v", code, r)
	}
	for _, c := range r.Checks {
		if c.ID == "tool.wget" && (c.Status != "fail" || !c.Required || c.Fix == "") {
			t.Errorf("wget check %+v", c)
		}
	}
}

// The real machine: doctor reports it, and its exit code follows the report.
func TestDoctorThisMachine(t *testing.T) {
	code, out, errOut := runCLI(t, "--output", t.TempDir(), "doctor", "--json")
	var r struct {
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s%s", err, out, errOut)
	}
	if (code == exitOK) != r.OK || (code != exitOK && code != exitFailed) {
		t.Errorf("exit %d with ok=%v", code, r.OK)
	}
}

func TestStatus(t *testing.T) {
	out1, state := t.TempDir(), t.TempDir()
	br := t.TempDir()
	for _, f := range []string{"Config.in", "Makefile"} {
		if err := os.WriteFile(filepath.Join(br, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("BUILDROOT_DIR", "")

	// Standalone, nothing configured.
	code, out, errOut := runCLI(t, "--output", out1, "--state-dir", state, "status")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{
		"Buildroot  none: standalone mode", "Source     " + testenv.RepoRoot(t) + "  (this repository)", "Output     " + out1 + "  (--output)", "State      " + state + "  (--state-dir)",
		".config    none yet in " + out1, "fix: git clone --depth 1 --branch " + workspace.PinnedBuildrootRelease,
		"fix: cube-hal defconfig cube_defconfig", "\nVMs\n  No VMs.\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("standalone status lacks %q:\n%s", w, out)
		}
	}

	// A checkout from the environment, a .config, images and VMs.
	t.Setenv("BUILDROOT_DIR", br)
	os.WriteFile(filepath.Join(out1, ".config"), []byte("# Buildroot 2026.02.3 Configuration\nBR2_DEFCONFIG=\"cube_defconfig\"\n"), 0o644)
	os.MkdirAll(filepath.Join(out1, "images"), 0o755)
	os.WriteFile(filepath.Join(out1, "images", "bzImage"), make([]byte, 3<<20), 0o644)
	old := statusVMs
	t.Cleanup(func() { statusVMs = old })
	statusVMs = func(ctx context.Context, w *workspace.Workspace, out io.Writer) error {
		if w.OutputDir != out1 || w.StateDir != state {
			t.Errorf("VM lister got workspace %+v", w)
		}
		fmt.Fprint(out, "NAME        MODE\ncube-ai-vm  plain/tcg  pid 4242\n")
		return nil
	}
	_, out, _ = runCLI(t, "--output", out1, "--state-dir", state, "status")
	for _, w := range []string{
		"Buildroot  " + br + "  ($BUILDROOT_DIR)", "from cube_defconfig, Buildroot 2026.02.3", "bzImage", "3.0 MiB",
		"\nVMs\n  NAME        MODE\n  cube-ai-vm  plain/tcg  pid 4242\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "git clone") {
		t.Errorf("status with a checkout still asks for a clone:\n%s", out)
	}
	statusVMs = func(context.Context, *workspace.Workspace, io.Writer) error { return errors.New("permission denied") }
	if _, out, _ = runCLI(t, "--output", out1, "--state-dir", state, "status"); !strings.Contains(out, "cannot list the VMs in "+filepath.Join(state, "runs")+": permission denied") {
		t.Errorf("VM listing error not shown:\n%s", out)
	}
}

// A command that needs what the workspace lacks fails (exit 1) with the
// fix as the hint.
func TestMissingWorkspacePartIsAFailureWithHint(t *testing.T) {
	var errb strings.Builder
	code := reportError(&errb, (&workspace.Workspace{}).RequireBuildroot())
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	if code != exitFailed || len(lines) != 2 || !strings.HasPrefix(lines[0], "cube-hal: Buildroot checkout: ") ||
		!strings.HasPrefix(lines[1], "hint: ") || !strings.Contains(lines[1], workspace.CloneCommand()) {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
}

func TestUsageErrorsAreOneLineWithAHint(t *testing.T) {
	for _, tc := range []struct {
		args []string
		line string // the error line
		hint string
	}{
		{[]string{"statsu"}, `cube-hal: unknown command "statsu" for "cube-hal"`, "did you mean 'cube-hal status'?"},
		{[]string{"dcotor"}, `unknown command "dcotor"`, "did you mean 'cube-hal doctor'?"},
		{[]string{"zzzz"}, `unknown command "zzzz"`, "cube-hal --help"},
		{[]string{"version", "extra"}, `cube-hal: 'cube-hal version' takes no arguments, got "extra"`, "cube-hal version --help"},
		{[]string{"status", "--bogus"}, "cube-hal: unknown flag: --bogus", "cube-hal status --help"},
		{[]string{"--output"}, "cube-hal: flag needs an argument: --output", "cube-hal --help"},
		{[]string{"deploy", "extra"}, `cube-hal: 'cube-hal deploy' takes no arguments, got "extra"`, "cube-hal deploy --help"},
		{[]string{"stop", "--timeout", "0"}, "cube-hal: --timeout 0s: want a positive duration", "--force"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
		if code != exitUsage || out != "" || len(lines) != 2 || !strings.Contains(lines[0], tc.line) ||
			!strings.HasPrefix(lines[1], "hint: ") || !strings.Contains(lines[1], tc.hint) {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", tc.args, code, out, errOut)
		}
	}
}

func testenvRepo(t *testing.T) string { return testenv.RepoRoot(t) }
