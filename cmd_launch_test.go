package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
	"github.com/ultravioletrs/cube-hal/launch"
)

// Bad launch, ssh, stop and deploy command lines: exit 2 (usage) or 1
// (failed), one line naming the flag or thing at fault, then a hint.
func TestLaunchCommandErrors(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "bzImage")
	os.WriteFile(kernel, []byte("k"), 0o644)
	state := filepath.Join(dir, "state")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"launch"}, exitUsage, "--mode is required"},
		{[]string{"launch", "--mode", "sev"}, exitUsage, "--mode: unknown mode \"sev\""},
		{[]string{"launch", "--mode", "plain", "--kernel", kernel, "--memory", "lots"}, exitUsage, "--memory \"lots\""},
		{[]string{"launch", "--mode", "plain", "--kernel", kernel, "--cpus", "0", "--memory", "64M", "--accel", "hvf"}, exitUsage, "--accel"},
		{[]string{"launch", "--mode", "plain", "--images", filepath.Join(dir, "nope")}, exitUsage, "--images: images directory"},
		{[]string{"launch", "--mode", "plain", "--images", dir, "--kernel", kernel}, exitUsage, "--kernel and --images both given"},
		{[]string{"launch", "--mode", "plain", "--initrd", kernel}, exitUsage, "--initrd needs --kernel"},
		{[]string{"launch", "--mode", "plain", "--kernel", kernel, "--ports", "some"}, exitUsage, "--ports"},
		{[]string{"launch", "--mode", "plain", "--kernel", kernel, "--wait", "agent"}, exitUsage, "--wait"},
		{[]string{"launch", "--mode", "plain", "--kernel", filepath.Join(dir, "missing")}, exitUsage, "kernel " + filepath.Join(dir, "missing")},
		{[]string{"launch", "--mode", "snp", "--kernel", kernel}, exitUsage, "firmware: snp needs firmware"},
		{[]string{"launch", "--mode", "snp", "--kernel", kernel, "--firmware", kernel, "--policy", "x"}, exitUsage, "--policy"},
		{[]string{"launch", "--mode", "plain", "--kernel", kernel, "--ssh-port", "6193"}, exitUsage, "both use host port 6193"},
		{[]string{"stop"}, exitFailed, "no such VM"},
		{[]string{"ssh", "--", "true"}, exitFailed, "no such VM"},
		{[]string{"deploy", "--images", filepath.Join(dir, "nope")}, exitFailed, "images directory"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, append([]string{"--state-dir", state}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if !strings.HasPrefix(lines[0], "cube-hal: ") || !strings.Contains(lines[0], tc.want) {
				t.Errorf("first line %q does not name %q", lines[0], tc.want)
			}
			if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-1], "hint: ") {
				t.Errorf("no hint line:\n%s", errOut)
			}
		})
	}
}

func TestLaunchDryRunPrintsTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinux")
	os.WriteFile(kernel, []byte("k"), 0o644)
	code, out, errOut := runCLI(t, "--state-dir", filepath.Join(dir, "state"), "launch", "--mode", "plain", "--kernel", kernel,
		"--accel", "tcg", "--memory", "1G", "--cpus", "3", "--append", "console=ttyS0 quiet", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{" -accel tcg -cpu max -smp 3 -m 1G ", " -kernel " + kernel + " ", "-append 'console=ttyS0 quiet'",
		"hostfwd=tcp:127.0.0.1:6190-:22,hostfwd=tcp:127.0.0.1:6193-:7001", "-no-reboot", "-pidfile " + filepath.Join(dir, "state", "runs", launch.DefaultName, "qemu.pid")} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
}

// On this host (no SEV-SNP, no TDX) the refusal names what is missing, and
// --check lists every mode with its reasons.
func TestLaunchRefusalAndCheckOnThisHost(t *testing.T) {
	qemu := testenv.Tool(t, "qemu-system-x86_64")[0]
	q := launch.ProbeQEMU(context.Background(), qemu)
	if q.Err != "" {
		t.Fatal(q.Err)
	}
	dir := t.TempDir()
	kernel := filepath.Join(dir, "bzImage")
	os.WriteFile(kernel, []byte("k"), 0o644)
	code, out, _ := runCLI(t, "launch", "--check")
	if !strings.Contains(out, "plain") || !strings.Contains(out, "snp") || !strings.Contains(out, "tdx") || !strings.Contains(out, "QEMU "+q.Version.String()) {
		t.Errorf("--check output:\n%s", out)
	}
	if code != 0 {
		t.Errorf("--check exit %d although plain mode runs everywhere QEMU does", code)
	}
	if q.HasObject("sev-snp-guest") {
		t.Skip("this QEMU has sev-snp-guest; the refusal below is for older ones")
	}
	code, _, errOut := runCLI(t, "--state-dir", filepath.Join(dir, "state"), "launch", "--mode", "snp", "--kernel", kernel, "--firmware", kernel)
	if code != exitFailed || !strings.Contains(errOut, "SEV-SNP needs QEMU 9.1 or later") || !strings.Contains(errOut, "hint: run 'cube-hal launch --check'") {
		t.Errorf("snp on this host: exit %d\n%s", code, errOut)
	}
}
