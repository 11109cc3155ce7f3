package launch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ultravioletrs/cube-hal/internal/testenv"
)

// These tests run the real QEMU (TCG) with Debian's kernel and no
// initramfs: the guest boots slowly and never reaches user space, which is
// all the lifecycle needs (QMP, the keeper, signals). The booted-guest
// path (SSH, ACPI powerdown) is the end-to-end test in the repo root.

func realKernel(t *testing.T) string {
	t.Helper()
	testenv.Tool(t, "qemu-system-x86_64")
	ks, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(ks) == 0 {
		testenv.Missing(t, "a kernel in /boot (install linux-image-amd64)")
	}
	return ks[len(ks)-1]
}

// freePorts returns two distinct free ports on 127.0.0.1.
func freePorts(t *testing.T) Ports {
	t.Helper()
	a, err := freePort(Ports{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := freePort(Ports{SSH: a})
	if err != nil {
		t.Fatal(err)
	}
	return Ports{SSH: a, Agent: b}
}

func testOptions(t *testing.T, name string) Options {
	t.Helper()
	return Options{
		Config: Config{Mode: ModePlain, Name: name, Kernel: realKernel(t), MemoryMB: 128, CPUs: 1,
			Accel: AccelTCG, Ports: freePorts(t), RestrictNet: true},
		RunDir:      filepath.Join(t.TempDir(), "runs"),
		Attached:    true,
		WaitTimeout: 60 * time.Second,
	}
}

// qemuUsing lists live processes whose command line mentions dir: after a
// test nothing of ours may be left.
func qemuUsing(dir string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !strings.Contains(string(b), dir) {
			continue
		}
		if procAlive(pid, 0) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func requireNoQEMU(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a wait for the outcome, generous for a loaded machine
	for {
		pids := qemuUsing(dir)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range pids {
				syscall.Kill(p, syscall.SIGKILL)
			}
			t.Fatalf("processes left behind using %s: %v", dir, pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startVM(t *testing.T, o Options) *VM {
	t.Helper()
	vm, err := Start(context.Background(), o)
	if err != nil {
		var se *StartError
		if errors.As(err, &se) {
			t.Fatalf("Start: %v\nQEMU: %s\n%s", err, se.QEMUOutput, se.CommandLine)
		}
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		vm.Stop(context.Background(), StopOptions{PowerdownTimeout: -1})
		requireNoQEMU(t, o.RunDir)
	})
	return vm
}

func TestStartStatusStop(t *testing.T) {
	o := testOptions(t, "life")
	// The previous run's pin is forgotten (new host keys every boot).
	o.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(o.KnownHostsFile, []byte("cube-hal-life ssh-ed25519 AAAAold\ncube-hal-other ssh-ed25519 AAAAkeep\n"), 0o600)
	vm := startVM(t, o)
	if kh, _ := os.ReadFile(o.KnownHostsFile); string(kh) != "cube-hal-other ssh-ed25519 AAAAkeep\n" {
		t.Errorf("known_hosts after Start:\n%s", kh)
	}
	if !vm.Running() || vm.Record.PID == 0 || vm.Record.KeeperPID == 0 {
		t.Fatalf("after Start: running=%v record=%+v", vm.Running(), vm.Record)
	}
	// QEMU's own pidfile agrees with the record.
	b, err := os.ReadFile(vm.Paths().PIDFile)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(vm.Record.PID) {
		t.Errorf("pidfile %q (%v), record pid %d", b, err, vm.Record.PID)
	}
	// QEMU holds no pipe: not the keeper's to the launcher, nor anything
	// inherited (a held pipe keeps readers such as $(...) waiting).
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", vm.Record.PID))
	for _, fd := range fds {
		if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", vm.Record.PID, fd.Name())); strings.HasPrefix(target, "pipe:") {
			t.Errorf("QEMU holds fd %s -> %s", fd.Name(), target)
		}
	}
	list, err := List(context.Background(), o.RunDir)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	s := list[0]
	if !s.Running || s.QMPStatus != "running" || s.Mode != ModePlain || s.Accel != AccelTCG || s.Ports != vm.Record.Ports || s.PID != vm.Record.PID {
		t.Errorf("status %+v", s)
	}
	var tbl strings.Builder
	WriteStatusTable(&tbl, list)
	if !strings.Contains(tbl.String(), "life") || !strings.Contains(tbl.String(), fmt.Sprintf("127.0.0.1:%d", s.Ports.SSH)) {
		t.Errorf("table:\n%s", tbl.String())
	}
	// The guest has no OS that handles the power button: Stop must fall
	// back to quit.
	res, err := vm.Stop(context.Background(), StopOptions{PowerdownTimeout: 500 * time.Millisecond, QuitTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.How != "quit" {
		t.Errorf("stopped by %q, want quit", res.How)
	}
	requireNoQEMU(t, o.RunDir)
	if vm.Record.State != StateExited || vm.Record.Exit == nil {
		t.Errorf("record after stop: state %q exit %+v", vm.Record.State, vm.Record.Exit)
	}
	for _, f := range []string{vm.Paths().QMPSocket, vm.Paths().SerialSocket} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s left behind", f)
		}
	}
	if res, err := vm.Stop(context.Background(), StopOptions{}); err != nil || res.How != "not running" {
		t.Errorf("second Stop = %+v, %v", res, err)
	}
	s = vm.Status(context.Background())
	if s.Running || s.State != StateExited {
		t.Errorf("status after stop %+v", s)
	}
}

func TestSecondStartOfSameNameRefused(t *testing.T) {
	o := testOptions(t, "twice")
	startVM(t, o)
	o2 := o
	o2.Config.Ports = freePorts(t)
	_, err := Start(context.Background(), o2)
	if !errors.Is(err, ErrRunning) {
		t.Fatalf("second Start: %v, want ErrRunning", err)
	}
}

func TestTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	o := testOptions(t, "ports")
	o.Config.Ports.SSH = taken
	_, err = Start(context.Background(), o)
	var pe *PortError
	if !errors.As(err, &pe) || pe.Port != taken || pe.Which != "ssh" {
		t.Fatalf("Start with a taken port: %v", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("ssh port %d on 127.0.0.1 is already in use", taken)) {
		t.Errorf("message %q", err)
	}
	requireNoQEMU(t, o.RunDir)

	o.AutoPorts = true
	vm := startVM(t, o)
	if vm.Record.Ports.SSH == taken || vm.Record.Ports.SSH == 0 {
		t.Errorf("--ports auto kept port %d", vm.Record.Ports.SSH)
	}
}

// QEMU's own message reaches the caller as it is, with the command line,
// and nothing is left running.
func TestQEMUFailureIsShown(t *testing.T) {
	o := testOptions(t, "bad")
	garbage := filepath.Join(t.TempDir(), "garbage-kernel")
	os.WriteFile(garbage, []byte(strings.Repeat("not a kernel ", 1000)), 0o644)
	o.Config.Kernel = garbage
	_, err := Start(context.Background(), o)
	var se *StartError
	if !errors.As(err, &se) {
		t.Fatalf("Start = %v, want a StartError", err)
	}
	if !strings.Contains(se.QEMUOutput, "invalid kernel header") || !strings.Contains(err.Error(), "invalid kernel header") {
		t.Errorf("QEMU's words missing: err %q, output %q", err, se.QEMUOutput)
	}
	if !strings.Contains(se.CommandLine, "-kernel "+garbage) {
		t.Errorf("command line %q", se.CommandLine)
	}
	requireNoQEMU(t, o.RunDir)
}

// A QEMU that cannot bind a forward (another process raced us to the port)
// is reported as a port error, from QEMU's own message.
func TestQEMUPortRaceIsAPortError(t *testing.T) {
	real := testenv.Tool(t, "qemu-system-x86_64")[0]
	o := testOptions(t, "race")
	wrapper := filepath.Join(t.TempDir(), "qemu")
	os.WriteFile(wrapper, []byte(fmt.Sprintf(`#!/bin/sh
case "$1" in --version|-object) exec %s "$@" ;; esac
echo "qemu-system-x86_64: -netdev user,id=vmnic,hostfwd=tcp:127.0.0.1:%d-:22: Could not set up host forwarding rule 'tcp:127.0.0.1:%d-:22'" >&2
exit 1
`, real, o.Config.Ports.SSH, o.Config.Ports.SSH)), 0o755)
	o.Config.QEMU = wrapper
	_, err := Start(context.Background(), o)
	var pe *PortError
	if !errors.As(err, &pe) || pe.Port != o.Config.Ports.SSH {
		t.Fatalf("Start = %v, want a PortError for %d", err, o.Config.Ports.SSH)
	}
}

func TestCancelDuringStartStopsQEMU(t *testing.T) {
	o := testOptions(t, "cancel")
	o.Wait = WaitSSH // never answers: no guest user space
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once QEMU is up (or after a minute, which fails the test).
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
			if r, err := readRecord(filepath.Join(o.RunDir, "cancel")); err == nil && r.PID != 0 {
				time.Sleep(300 * time.Millisecond)
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		cancel()
	}()
	_, err := Start(ctx, o)
	if err == nil {
		t.Fatal("Start succeeded although cancelled")
	}
	requireNoQEMU(t, o.RunDir)
	r, _ := readRecord(filepath.Join(o.RunDir, "cancel"))
	if r.State != StateExited || r.Exit == nil || !strings.Contains(r.Exit.Why, "launcher") {
		t.Errorf("record after cancel: %+v", r)
	}
}

// The helper process for the next test: it starts a VM that waits for SSH
// forever, and gets SIGKILLed by the test while doing so.
func TestHelperLauncher(t *testing.T) {
	dir := os.Getenv("LAUNCH_TEST_HELPER_RUNDIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	o := testOptions(t, "orphan")
	o.RunDir = dir
	o.Attached = false
	o.Wait = WaitSSH
	Start(context.Background(), o)
	t.Fatal("Start returned; the test should have killed this process")
}

// cube-hal killed (SIGKILL, no chance to clean up) while starting a VM:
// the keeper notices the control pipe close and stops QEMU.
func TestLauncherKilledDuringStartLeavesNoQEMU(t *testing.T) {
	realKernel(t)
	runDir := filepath.Join(t.TempDir(), "runs")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperLauncher$", "-test.v")
	cmd.Env = append(os.Environ(), "LAUNCH_TEST_HELPER_RUNDIR="+runDir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var r Record
	for deadline := time.Now().Add(time.Minute); ; {
		var err error
		if r, err = readRecord(filepath.Join(runDir, "orphan")); err == nil && r.PID != 0 && procAlive(r.PID, 0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("QEMU did not start in the helper")
		}
		time.Sleep(25 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !waitGone(r.PID, r.PIDStart, 30*time.Second) {
		t.Fatalf("QEMU pid %d survived its launcher", r.PID)
	}
	requireNoQEMU(t, runDir)
	r, _ = readRecord(filepath.Join(runDir, "orphan"))
	if r.Exit == nil || !strings.Contains(r.Exit.Why, "launcher went away") {
		t.Errorf("exit info %+v", r.Exit)
	}
}

// The keeper killed outright: QEMU follows through its parent-death
// signal, even after the hand-over.
func TestKeeperKilledTakesQEMUWithIt(t *testing.T) {
	o := testOptions(t, "keeper")
	o.Attached = false
	vm, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer requireNoQEMU(t, o.RunDir)
	defer vm.Stop(context.Background(), StopOptions{PowerdownTimeout: -1})
	if err := syscall.Kill(vm.Record.KeeperPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !waitGone(vm.Record.PID, vm.Record.PIDStart, 30*time.Second) {
		t.Fatalf("QEMU pid %d survived its keeper", vm.Record.PID)
	}
	if s := vm.Status(context.Background()); s.Running || s.State != "stale" {
		t.Errorf("status after the keeper died: %+v", s)
	}
}

// Stop escalates to signals when QMP is unusable (here: the socket is
// gone), and never signals a recycled pid.
func TestStopWithoutQMPUsesSignals(t *testing.T) {
	o := testOptions(t, "signals")
	vm := startVM(t, o)
	os.Remove(vm.Paths().QMPSocket)
	res, err := vm.Stop(context.Background(), StopOptions{PowerdownTimeout: 200 * time.Millisecond, QuitTimeout: 30 * time.Second})
	if err != nil || res.How != "SIGTERM" {
		t.Fatalf("Stop = %+v, %v; want SIGTERM", res, err)
	}
	requireNoQEMU(t, o.RunDir)
	if err := signalIfSame(os.Getpid(), 12345, syscall.SIGTERM); err == nil {
		t.Fatal("signalIfSame signalled a process whose start time differs")
	}
}

func TestOpenPicksTheOnlyRunningVM(t *testing.T) {
	o := testOptions(t, "only")
	startVM(t, o)
	vm, err := Open(o.RunDir, "")
	if err != nil || vm.Record.Name != "only" {
		t.Fatalf("Open(\"\") = %v, %v", vm, err)
	}
	if _, err := Open(o.RunDir, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(nope) = %v", err)
	}
}
